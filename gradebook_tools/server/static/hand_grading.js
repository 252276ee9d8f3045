// The hand-grading view: one answer after another, keyboard first, no page reload between students.
// Answers arrive as HTML the server sanitized (the course's sanitizer); the page's
// Content-Security-Policy runs no inline script either way. In blind mode the server sends no
// name or id before a grade is saved, so none is ever in the page before that.
(function () {
  "use strict";
  const view = document.getElementById("view");
  const api = view.dataset.api;
  const xsrf = view.dataset.xsrf;
  const blind = view.dataset.blind === "1";
  const cell = { assignment: view.dataset.assignment, notebook: view.dataset.notebook, cell: view.dataset.cell };
  const $ = (id) => document.getElementById(id);
  const state = { entries: [], index: -1, items: [], maxScore: 0, current: null, done: 0, left: 0, pendingEdit: null };

  function query(extra) {
    const params = new URLSearchParams(Object.assign({}, cell, extra || {}));
    if (blind) params.set("blind", "1");
    return params.toString();
  }

  async function request(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { "X-XSRFToken": xsrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(api + path, options);
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(data.error || data.message || response.statusText);
    return data;
  }

  function say(text) { $("message").textContent = text; }

  function progress() {
    const total = state.entries.length;
    const position = state.index >= 0 ? `Answer ${state.index + 1} of ${total}` : `${total} answers`;
    $("progress").textContent = `${position} · ${state.done} graded · ${state.left} left`;
  }

  function renderItems() {
    const box = $("items");
    box.replaceChildren();
    state.items.forEach((item, position) => {
      const label = document.createElement("label");
      label.className = "item";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = String(item.id);
      input.dataset.points = String(item.points);
      if (position < 9) input.setAttribute("aria-keyshortcuts", `${position + 1} Shift+${position + 1}`);
      input.addEventListener("change", updateScore);
      const key = document.createElement("kbd");
      key.textContent = position < 9 ? String(position + 1) : "";
      const sign = item.points >= 0 ? "+" : "";
      label.append(input, " ", key, ` ${item.label} (${sign}${item.points})`);
      if (item.comment) {
        const comment = document.createElement("span");
        comment.className = "item-comment";
        comment.textContent = ` · ${item.comment}`;
        label.append(comment);
      }
      box.append(label);
    });
    if (!state.items.length) box.textContent = "No rubric items yet: add them below.";
    const choice = $("item-choice");
    const chosen = choice.value;
    choice.replaceChildren(new Option("a new item", ""));
    state.items.forEach((item, position) => choice.append(new Option(`${position + 1}. ${item.label}`, String(item.id))));
    choice.value = state.items.some((item) => String(item.id) === chosen) ? chosen : "";
  }

  function renderComments(comments) {
    const list = $("comment-suggestions");
    list.replaceChildren();
    (comments || []).forEach((text) => list.append(new Option(text)));
  }

  function checkboxes() { return Array.from($("items").querySelectorAll("input[type=checkbox]")); }

  function updateScore() {
    const points = checkboxes().filter((box) => box.checked).reduce((sum, box) => sum + Number(box.dataset.points), 0);
    const adjustment = Number($("adjustment").value) || 0;
    const score = Math.min(Math.max(points + adjustment, 0), state.maxScore);
    $("score").textContent = String(Math.round(score * 1000) / 1000);
  }

  function showIdentity(student) {
    // the student of the answer shown: never sent in blind mode before the answer is graded
    if (!student) { $("identity").textContent = blind ? "Blind grading: the name is shown once the grade is saved." : ""; return; }
    $("identity").textContent = `Student: ${student.name} (${student.student_id})`;
  }

  function showSaved(student, score) {
    $("saved").textContent = `Saved ${score} / ${state.maxScore} for ${student.name} (${student.student_id}).`;
  }

  function loadAnswer(index) {
    return request("GET", `/answers/${state.entries[index].key}?${blind ? "blind=1" : "blind=0"}`);
  }

  function display(index, answer) {
    state.index = index;
    state.current = answer;
    $("question").innerHTML = answer.question_html; // sanitized by the server
    $("answer").innerHTML = answer.answer_html; // sanitized by the server
    const applied = new Set(answer.rubric ? answer.rubric.items : []);
    checkboxes().forEach((box) => { box.checked = applied.has(Number(box.value)); });
    $("free-comment").value = answer.rubric ? answer.rubric.free_comment : "";
    $("adjustment").value = answer.rubric ? String(answer.rubric.adjustment) : "0";
    updateScore();
    if (answer.graded && !answer.rubric) say(`Graded outside this view: ${answer.score} points.`);
    else say("");
    showIdentity(answer.student);
    progress();
  }

  async function show(index) {
    if (index < 0 || index >= state.entries.length) return;
    display(index, await loadAnswer(index));
  }

  function nextUngraded(from) {
    const total = state.entries.length;
    for (let step = 1; step <= total; step++) {
      const index = (from + step) % total;
      if (!state.entries[index].graded) return index;
    }
    return -1;
  }

  async function showNextUngraded() {
    const next = nextUngraded(state.index);
    if (next >= 0) await show(next);
  }

  // --- one action after another: a key pressed while a save is in flight waits for the next answer to
  // be shown and then applies to it, in the order pressed, so fast keys lose nothing
  const actions = { chain: Promise.resolve(), waiting: 0, generation: 0, comment: null };

  function enqueue(action) {
    const generation = actions.generation;
    actions.waiting += 1;
    actions.chain = actions.chain.then(async () => {
      try {
        if (generation === actions.generation) await action();
      } catch (error) {
        say(`Error: ${error.message}`);
      } finally {
        actions.waiting -= 1;
      }
    });
    return actions.chain;
  }

  function gradeBody() {
    return {
      items: checkboxes().filter((box) => box.checked).map((box) => Number(box.value)),
      free_comment: $("free-comment").value,
      adjustment: Number($("adjustment").value) || 0,
    };
  }

  // The one way a grade is saved (Enter, Shift+digit, the Save button): the grade as the form holds it
  // now, then the next ungraded answer (fetched while the grade is saved).
  async function saveAndShowNext() {
    if (!state.current) return;
    const index = state.index;
    const body = gradeBody();
    const wasGraded = state.entries[index].graded;
    state.entries[index].graded = true; // the next ungraded is another answer
    const next = nextUngraded(index);
    const saving = request("POST", `/answers/${state.current.key}?${blind ? "blind=1" : "blind=0"}`, body);
    const loading = next >= 0 ? loadAnswer(next) : Promise.resolve(null);
    loading.catch(() => {}); // awaited below only once the grade is saved
    let saved;
    try {
      saved = await saving;
    } catch (error) {
      state.entries[index].graded = wasGraded;
      const later = actions.waiting - 1;
      actions.generation += 1; // the keys pressed after it were meant for the next answer: dropped
      actions.comment = null;
      say(`Not saved: ${error.message}` + (later > 0 ? ` (${later} later key action(s) not applied)` : ""));
      return;
    }
    state.done = saved.done;
    state.left = saved.left;
    renderComments(saved.comments);
    if (next >= 0) {
      try {
        display(next, await loading);
      } catch (error) {
        progress();
        say(`Saved; the next answer did not load: ${error.message}`);
      }
    } else {
      showIdentity(saved.student); // this answer is graded now: its identity may be shown
      progress();
      say("Every answer of this cell is graded.");
    }
    showSaved(saved.student, saved.score);
  }

  function save() {
    // leave the field at once: what is typed next is a key of the view, not more of this grade's comment
    if (document.activeElement && document.activeElement.tagName === "INPUT") document.activeElement.blur();
    actions.comment = null;
    return enqueue(saveAndShowNext);
  }

  function toggleItem(number) {
    const box = checkboxes()[number - 1];
    if (box) { box.checked = !box.checked; updateScore(); }
  }

  async function tickItemAndSave(number) {
    const box = checkboxes()[number - 1];
    if (!box) { say(`There is no rubric item ${number}: nothing saved.`); return; }
    box.checked = true;
    updateScore();
    await saveAndShowNext();
  }

  function writeComment() {
    const field = $("free-comment");
    if (!actions.waiting) { field.focus(); return; }
    // a save is in flight: the field belongs to the next answer once it is shown; what is typed meanwhile
    // is kept and written into the field then
    const pending = { text: "", open: true };
    actions.comment = pending;
    enqueue(() => {
      if (actions.comment === pending) actions.comment = null;
      field.value += pending.text;
      if (pending.open) { field.focus(); field.setSelectionRange(field.value.length, field.value.length); }
    });
  }

  /** A key typed for a comment whose field is not shown yet: true when it was kept. */
  function keptForComment(event) {
    const pending = actions.comment;
    if (!pending || !pending.open) return false;
    if (event.key.length === 1) pending.text += event.key;
    else if (event.key === "Backspace") pending.text = pending.text.slice(0, -1);
    else if (["Shift", "CapsLock", "Dead"].includes(event.key)) return true;
    else { pending.open = false; return event.key === "Escape"; } // Escape leaves the comment, Enter saves it
    return true;
  }

  // --- the rubric editor
  function chosenItem() {
    const id = Number($("item-choice").value);
    return state.items.find((item) => item.id === id) || null;
  }

  function editValues() {
    return { points: Number($("item-points").value), label: $("item-label").value, comment: $("item-comment").value };
  }

  function onChoice() {
    const item = chosenItem();
    $("item-points").value = item ? String(item.points) : "";
    $("item-label").value = item ? item.label : "";
    $("item-comment").value = item ? item.comment : "";
    $("item-save").textContent = item ? "Preview the edit" : "Add item";
    $("item-apply").hidden = true;
    $("preview").replaceChildren();
    state.pendingEdit = null;
  }

  function renderPreview(changes, applied) {
    const box = $("preview");
    box.replaceChildren();
    const heading = document.createElement("p");
    const verb = applied ? "Changed" : "This edit changes";
    heading.textContent = changes.length ? `${verb} ${changes.length} grade(s):` : "No grade uses this item: nothing else changes.";
    box.append(heading);
    if (!changes.length) return;
    const table = document.createElement("table");
    table.id = "preview-table";
    const caption = table.createCaption();
    caption.textContent = applied ? "Grades changed by the edit" : "Grades the edit would change";
    const head = table.createTHead().insertRow();
    ["student", "score now", "score after", "comment changes"].forEach((text) => {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.append(th);
    });
    const body = table.createTBody();
    changes.forEach((change) => {
      const row = body.insertRow();
      [change.student_id, String(change.old_score), String(change.new_score), change.comment_changes ? "yes" : "no"]
        .forEach((text) => { row.insertCell().textContent = text; });
    });
    box.append(table);
  }

  async function submitItem(event) {
    event.preventDefault();
    const item = chosenItem();
    try {
      if (!item) {
        const added = await request("POST", "/items", Object.assign({}, cell, editValues()));
        state.items = added.items;
        renderItems();
        say(`Added rubric item ${added.items.length}: ${added.item.label}.`);
        onChoice();
        restoreChecks();
        return;
      }
      const preview = await request("POST", `/items/${item.id}`, Object.assign({ preview: true }, editValues()));
      state.pendingEdit = { id: item.id, values: editValues() };
      renderPreview(preview.changes, false);
      $("item-apply").hidden = false;
      $("item-apply").focus();
    } catch (error) {
      say(`Rubric not changed: ${error.message}`);
    }
  }

  async function applyEdit() {
    if (!state.pendingEdit) return;
    try {
      const result = await request("POST", `/items/${state.pendingEdit.id}`, state.pendingEdit.values);
      state.items = result.items;
      renderItems();
      renderPreview(result.changes, true);
      $("item-apply").hidden = true;
      state.pendingEdit = null;
      if (state.index >= 0) await show(state.index);
      say(`Applied the edit to ${result.changes.length} grade(s).`);
    } catch (error) {
      say(`Edit not applied: ${error.message}`);
    }
  }

  function restoreChecks() {
    if (!state.current) return;
    const applied = new Set(state.current.rubric ? state.current.rubric.items : []);
    checkboxes().forEach((box) => { box.checked = applied.has(Number(box.value)); });
    updateScore();
  }

  // --- keys
  function typing(target) {
    return target instanceof HTMLInputElement && !["checkbox", "radio", "button", "submit"].includes(target.type)
      || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement;
  }

  /** The rubric item a digit key names (1-9, the row above the letters or the numpad), else 0. */
  function itemNumber(event) {
    const match = /^(?:Digit|Numpad)([1-9])$/.exec(event.code || "");
    return match ? Number(match[1]) : 0;
  }

  /** Shift+digit: Shift changes event.key ("@" for Shift+2), so the key is known by event.code. Where
   * Shift is how the digit row types digits (AZERTY), Shift+digit stays the plain item key. */
  function shiftedItem(event) {
    const number = itemNumber(event);
    if (!number || !event.shiftKey) return 0;
    return event.code.startsWith("Digit") && /^[1-9]$/.test(event.key) ? 0 : number;
  }

  // Single-character shortcuts can be turned off (WCAG 2.1.4: speech input types words that would fire
  // them); the choice is kept in this browser
  const CHARACTER_KEYS = "gradebook-tools.hand-grading.character-keys";
  const characterKeys = $("character-keys");
  try { characterKeys.checked = localStorage.getItem(CHARACTER_KEYS) !== "off"; } catch (error) { /* no storage */ }
  characterKeys.addEventListener("change", () => {
    try {
      localStorage.setItem(CHARACTER_KEYS, characterKeys.checked ? "on" : "off");
    } catch (error) { /* no storage: the choice holds for this page */ }
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (typing(target)) { // a text field types what is pressed, Shift+digit included: no key of the view
      if (event.key === "Escape") { target.blur(); event.preventDefault(); }
      return;
    }
    if (target.closest && target.closest("#item-form")) return; // the rubric editor's own buttons
    if (!characterKeys.checked && event.key !== "Enter") return;
    if (keptForComment(event)) { event.preventDefault(); return; }
    const shifted = shiftedItem(event);
    if (shifted) { enqueue(() => tickItemAndSave(shifted)); event.preventDefault(); }
    else if (/^[1-9]$/.test(event.key)) {
      const number = Number(event.key);
      enqueue(() => toggleItem(number));
      event.preventDefault();
    } else if (event.key === "j") { enqueue(() => show(state.index + 1)); event.preventDefault(); }
    else if (event.key === "k") { enqueue(() => show(state.index - 1)); event.preventDefault(); }
    else if (event.key === "u") { enqueue(showNextUngraded); event.preventDefault(); }
    else if (event.key === "c") { writeComment(); event.preventDefault(); }
    else if (event.key === "Enter" && !(target instanceof HTMLButtonElement) && !(target instanceof HTMLAnchorElement)) {
      save();
      event.preventDefault();
    }
  });

  $("grade-form").addEventListener("submit", (event) => { event.preventDefault(); save(); });
  $("adjustment").addEventListener("input", updateScore);
  $("previous").addEventListener("click", () => enqueue(() => show(state.index - 1)));
  $("next").addEventListener("click", () => enqueue(() => show(state.index + 1)));
  $("next-ungraded").addEventListener("click", () => enqueue(showNextUngraded));
  $("item-choice").addEventListener("change", onChoice);
  $("item-form").addEventListener("submit", submitItem);
  $("item-apply").addEventListener("click", applyEdit);

  async function start() {
    try {
      const loaded = await request("GET", `/queue?${query()}`);
      state.entries = loaded.entries;
      state.items = loaded.items;
      state.maxScore = loaded.max_score;
      state.done = loaded.done;
      state.left = loaded.left;
      $("max-score").textContent = String(loaded.max_score);
      renderItems();
      renderComments(loaded.comments);
      if (!state.entries.length) { progress(); say("No answers to grade in this cell."); return; }
      const first = state.entries.findIndex((entry) => !entry.graded);
      await show(first >= 0 ? first : 0);
      view.dataset.ready = "1";
    } catch (error) {
      say(`Could not load the answers: ${error.message}`);
    }
  }
  enqueue(start); // keys pressed while the first answer loads apply to it
})();
