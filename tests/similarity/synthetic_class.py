"""A synthetic class on ex01_response_only_sft: independently written solutions and planted copies.

Each independent author writes the three functions and ``answer`` in their own
way (vectorized numpy, plain loops with ``math``, ``logaddexp``, one-hot with
``einsum``, per-row helpers, index arithmetic...). The planted copies take one
of them and disguise it: renamed variables, functions in another order,
other comments and whitespace, and one function copied into otherwise own work.
"""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import nbformat

EXERCISE = "ex01_response_only_sft"
REPO = Path(__file__).resolve().parents[2]
RELEASE = REPO / "release" / EXERCISE / f"{EXERCISE}.ipynb"
CELLS = ("log_softmax", "response_mask_from_roles", "response_only_loss", "answer")

# ---------------------------------------------------------------- independent authors: {cell: code}

INDEPENDENT: dict[str, dict[str, str]] = {
    "numpy_style": {
        "log_softmax": """def log_softmax(z, axis=-1):
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 0:
        raise ValueError("z must have at least one axis")
    if z.shape[axis] == 0:
        raise ValueError("z is empty along the softmax axis")
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    in_loss = {"assistant": 1.0, "system": 0.0, "user": 0.0}
    unknown = sorted({str(role) for role in roles if role not in in_loss})
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}")
    return np.array([in_loss[role] for role in roles], dtype=np.float64)
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    mask = np.asarray(response_mask, dtype=np.float64)
    if logits.ndim < 1 or logits.shape[:-1] != targets.shape or mask.shape != targets.shape:
        raise ValueError(f"shape mismatch: logits {logits.shape}, targets {targets.shape}")
    if not np.all((mask == 0) | (mask == 1)):
        raise ValueError("response_mask must contain only 0 and 1")
    vocabulary = logits.shape[-1]
    if np.any(targets != np.floor(targets)) or np.any((targets < 0) | (targets >= vocabulary)):
        raise ValueError(f"targets must be integers in [0, {vocabulary})")
    if mask.sum() == 0:
        raise ValueError("no response token: the mask is all zeros")
    log_probs = log_softmax(logits, axis=-1)
    picked = np.take_along_axis(log_probs, targets.astype(np.int64)[..., None], axis=-1)[..., 0]
    return float(-(picked * mask).sum() / mask.sum())
""",
        "answer": "answer = response_only_loss(worked_logits, worked_targets, worked_mask)\n",
    },
    "loops_style": {
        "log_softmax": """import math

def log_softmax(z, axis=-1):
    arr = np.array(z, dtype=float)
    if arr.ndim == 0 or arr.shape[axis] == 0:
        raise ValueError("need a non-empty axis")
    moved = np.moveaxis(arr, axis, -1)
    out = np.empty_like(moved)
    for index in np.ndindex(moved.shape[:-1]):
        row = list(moved[index])
        biggest = max(row)
        total = 0.0
        for value in row:
            total += math.exp(value - biggest)
        lse = biggest + math.log(total)
        out[index] = [value - lse for value in row]
    return np.moveaxis(out, -1, axis)
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    result = []
    for i in range(len(roles)):
        r = roles[i]
        if r == "assistant":
            result.append(1.0)
        elif r == "user" or r == "system":
            result.append(0.0)
        else:
            raise ValueError("role number " + str(i) + " is not known: " + repr(r))
    return np.array(result)
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    L = np.array(logits, dtype=float)
    t = np.array(targets)
    m = np.array(response_mask, dtype=float)
    if L.ndim == 0 or L.shape[:-1] != t.shape or t.shape != m.shape:
        raise ValueError("shapes do not agree")
    n_classes = L.shape[-1]
    flat_logits = L.reshape(-1, n_classes)
    flat_t = t.reshape(-1)
    flat_m = m.reshape(-1)
    nll_sum = 0.0
    n_tokens = 0
    for k in range(flat_t.shape[0]):
        if flat_m[k] not in (0.0, 1.0):
            raise ValueError("mask values must be 0 or 1")
        label = flat_t[k]
        if label != int(label) or label < 0 or label >= n_classes:
            raise ValueError("bad target")
        if flat_m[k] == 1.0:
            row_logp = log_softmax(flat_logits[k])
            nll_sum = nll_sum - row_logp[int(label)]
            n_tokens = n_tokens + 1
    if n_tokens == 0:
        raise ValueError("empty mask")
    return nll_sum / n_tokens
""",
        "answer": """total = 0.0
count = 0
for row, target, keep in zip(worked_logits, worked_targets, worked_mask):
    if keep:
        total -= log_softmax(row)[target]
        count += 1
answer = total / count
""",
    },
    "logaddexp_style": {
        "log_softmax": """def log_softmax(z, axis=-1):
    values = np.asarray(z, dtype=np.float64)
    if values.size == 0 or values.ndim < 1 or values.shape[axis] < 1:
        raise ValueError("log_softmax needs values along the axis")
    normaliser = np.logaddexp.reduce(values, axis=axis, keepdims=True)
    return values - normaliser
""",
        "response_mask_from_roles": """ALLOWED_ROLES = ("system", "user", "assistant")

def response_mask_from_roles(roles):
    roles = list(roles)
    bad = [r for r in roles if r not in ALLOWED_ROLES]
    if len(bad) > 0:
        raise ValueError("unexpected roles %r" % (bad,))
    return np.where(np.array(roles, dtype=object) == "assistant", 1.0, 0.0).astype(float)
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    lg = np.asarray(logits, float)
    tg = np.asarray(targets)
    keep = np.asarray(response_mask, float)
    if lg.ndim < 1 or tg.shape != lg.shape[:-1] or keep.shape != tg.shape:
        raise ValueError("incompatible shapes")
    if not np.isin(keep, [0.0, 1.0]).all():
        raise ValueError("mask must be binary")
    if not np.all(np.mod(tg, 1) == 0) or tg.min(initial=0) < 0 or tg.max(initial=0) >= lg.shape[-1]:
        raise ValueError("targets out of range")
    if not keep.any():
        raise ValueError("nothing to average")
    selected = lg[keep.astype(bool)]
    chosen = tg[keep.astype(bool)].astype(int)
    per_token = np.logaddexp.reduce(selected, axis=-1) - selected[np.arange(len(chosen)), chosen]
    return float(np.mean(per_token))
""",
        "answer": (
            "targets = np.array(worked_targets)\n"
            "answer = float(response_only_loss(np.array(worked_logits), targets, worked_mask))\n"
        ),
    },
    "einsum_style": {
        "log_softmax": """def log_softmax(z, axis=-1):
    x = np.array(z, dtype=float)
    if x.ndim == 0:
        raise ValueError("scalar input")
    n = x.shape[axis]
    if n == 0:
        raise ValueError("empty axis")
    top = np.amax(x, axis=axis)
    top = np.expand_dims(top, axis)
    log_norm = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return x - log_norm
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    weights = dict(assistant=1.0, user=0.0, system=0.0)
    mask = np.zeros(len(roles))
    for position, name in enumerate(roles):
        try:
            mask[position] = weights[name]
        except (KeyError, TypeError):
            raise ValueError(f"role {name!r} at {position} is not system, user or assistant") from None
    return mask
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    scores = np.asarray(logits, dtype=float)
    ids = np.asarray(targets)
    weights = np.asarray(response_mask, dtype=float)
    if scores.ndim == 0 or ids.shape != scores.shape[:-1] or weights.shape != ids.shape:
        raise ValueError("logits, targets and mask must line up")
    V = scores.shape[-1]
    if ((weights != 0) & (weights != 1)).any():
        raise ValueError("mask entries are 0 or 1")
    if (ids % 1 != 0).any() or (ids < 0).any() or (ids >= V).any():
        raise ValueError("target index outside the vocabulary")
    denominator = weights.sum()
    if denominator == 0:
        raise ValueError("the mask selects no token")
    one_hot = np.eye(V)[ids.astype(int)]
    token_logp = np.einsum("...v,...v->...", one_hot, log_softmax(scores))
    return float(-np.einsum("...,...->", token_logp, weights) / denominator)
""",
        "answer": """lp = log_softmax(np.array(worked_logits))
answer = -sum(lp[i, worked_targets[i]] for i in range(4) if worked_mask[i]) / sum(worked_mask)
""",
    },
    "rowwise_style": {
        "log_softmax": """def _row_log_softmax(row):
    c = np.max(row)
    return row - (c + np.log(np.exp(row - c).sum()))


def log_softmax(z, axis=-1):
    data = np.asarray(z, dtype=np.float64)
    if not data.ndim:
        raise ValueError("z has no axis")
    if not data.shape[axis]:
        raise ValueError("the softmax axis has length 0")
    return np.apply_along_axis(_row_log_softmax, axis, data)
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    known = set(["system", "user", "assistant"])
    flags = []
    for role in roles:
        if role not in known:
            raise ValueError("Unknown role: {}".format(role))
        flags.append(float(role == "assistant"))
    return np.asarray(flags, dtype=float)
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    logits = np.asarray(logits, dtype=np.float64)
    targets = np.asarray(targets)
    response_mask = np.asarray(response_mask, dtype=np.float64)
    batch_shape = targets.shape
    if logits.ndim == 0 or logits.shape[:-1] != batch_shape or response_mask.shape != batch_shape:
        raise ValueError("mismatched shapes")
    flat = logits.reshape(-1, logits.shape[-1])
    tgt = targets.reshape(-1)
    msk = response_mask.reshape(-1)
    if set(np.unique(msk)) - {0.0, 1.0}:
        raise ValueError("mask is not binary")
    if not np.array_equal(tgt, tgt.astype(int)) or tgt.size and (tgt.min() < 0 or tgt.max() >= flat.shape[1]):
        raise ValueError("invalid target ids")
    rows = np.flatnonzero(msk)
    if rows.size == 0:
        raise ValueError("mask has no ones")
    losses = [-_row_log_softmax(flat[r])[int(tgt[r])] for r in rows]
    return float(np.mean(losses))
""",
        "answer": """answer = response_only_loss(
    logits=worked_logits,
    targets=worked_targets,
    response_mask=worked_mask,
)
""",
    },
    "index_style": {
        "log_softmax": """def log_softmax(z, axis=-1):
    a = np.asarray(z) * 1.0
    if a.ndim < 1:
        raise ValueError("expected an array")
    ax = axis % a.ndim
    if a.shape[ax] == 0:
        raise ValueError("zero-length axis")
    mx = a.max(axis=ax, keepdims=True)
    e = np.exp(a - mx)
    s = e.sum(axis=ax, keepdims=True)
    return (a - mx) - np.log(s)
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    codes = {"system": 0, "user": 0, "assistant": 1}
    if any(role not in codes for role in roles):
        raise ValueError("roles must be system, user or assistant")
    return np.fromiter((codes[role] for role in roles), dtype=float, count=len(roles))
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    X = np.asarray(logits) * 1.0
    y = np.asarray(targets)
    w = np.asarray(response_mask) * 1.0
    if X.ndim < 1 or X.shape[:-1] != y.shape or w.shape != y.shape:
        raise ValueError("shape problem")
    C = X.shape[-1]
    X2 = X.reshape(-1, C)
    y2 = y.ravel()
    w2 = w.ravel()
    if np.any(np.logical_and(w2 != 0, w2 != 1)):
        raise ValueError("weights must be 0/1")
    if np.any(y2 < 0) or np.any(y2 >= C) or np.any(y2 != np.round(y2)):
        raise ValueError("targets must index the vocabulary")
    if w2.sum() < 1:
        raise ValueError("no token is selected")
    lsm = log_softmax(X2)
    nll = -lsm[np.arange(X2.shape[0]), y2.astype(int)]
    return float(np.dot(nll, w2) / w2.sum())
""",
        "answer": """answer = response_only_loss(np.asarray(worked_logits), np.asarray(worked_targets),
                            np.asarray(worked_mask, dtype=float))
""",
    },
    "lists_style": {
        "log_softmax": """def log_softmax(z, axis=-1):
    arr = np.asarray(z, dtype=float)
    if arr.ndim == 0 or arr.shape[axis] == 0:
        raise ValueError("bad input for log_softmax")
    swapped = np.swapaxes(arr, axis, -1)
    result = np.zeros_like(swapped)
    for idx in np.ndindex(*swapped.shape[:-1]):
        vector = swapped[idx]
        peak = vector.max()
        result[idx] = vector - peak - np.log(np.sum(np.exp(vector - peak)))
    return np.swapaxes(result, axis, -1)
""",
        "response_mask_from_roles": """def response_mask_from_roles(roles):
    out = list(map(lambda r: {"assistant": 1.0, "user": 0.0, "system": 0.0}.get(r, -1.0), roles))
    if -1.0 in out:
        raise ValueError(f"unknown role in {list(roles)!r}")
    return np.array(out, dtype=float)
""",
        "response_only_loss": """def response_only_loss(logits, targets, response_mask):
    lo = np.asarray(logits, dtype=float)
    ta = np.asarray(targets)
    ma = np.asarray(response_mask, dtype=float)
    if lo.ndim < 1 or lo.shape[:-1] != ta.shape or ma.shape != ta.shape:
        raise ValueError("the shapes differ")
    width = lo.shape[-1]
    pairs = list(zip(lo.reshape(-1, width), ta.ravel().tolist(), ma.ravel().tolist()))
    kept = []
    for row, target, flag in pairs:
        if flag not in (0.0, 1.0):
            raise ValueError("flag must be 0 or 1")
        if target != int(target) or not (0 <= target < width):
            raise ValueError("target not in vocabulary")
        if flag:
            kept.append(-log_softmax(row)[int(target)])
    if not kept:
        raise ValueError("all tokens masked out")
    return sum(kept) / len(kept)
""",
        "answer": "answer = round(response_only_loss(worked_logits, worked_targets, worked_mask), 6)\n",
    },
}

# ---------------------------------------------------------------- planted copies


def renamed(code: str, names: dict[str, str]) -> str:
    """``code`` with each whole-word name replaced."""
    for old, new in names.items():
        code = re.sub(rf"\b{re.escape(old)}\b", new, code)
    return code


def recommented(code: str) -> str:
    """Other comments, blank lines and spacing, the same statements."""
    lines = []
    for number, line in enumerate(code.splitlines()):
        stripped = line.rstrip()
        if number % 3 == 0 and stripped.strip():
            lines.append(" " * (len(stripped) - len(stripped.lstrip())) + f"# step {number}: my own note here")
        lines.append(stripped.replace(", ", ",  ").replace(" = ", "   =   "))
        if number % 4 == 1:
            lines.append("")
    return "\n".join(lines) + "\n"


def planted_class() -> tuple[dict[str, dict[str, str]], set[frozenset[str]]]:
    """Every author's code by cell, and the planted pairs (as frozensets of two ids)."""
    authors = {name: dict(cells) for name, cells in INDEPENDENT.items()}
    source = INDEPENDENT["numpy_style"]
    authors["copy_renamed"] = {
        cell: renamed(
            code,
            {
                "shifted": "stable",
                "in_loss": "table",
                "unknown": "strange",
                "mask": "keep",
                "vocabulary": "vocab_size",
                "log_probs": "lp",
                "picked": "gathered",
                "role": "who",
            },
        )
        for cell, code in source.items()
    }
    # functions in the reverse order: each solution cell holds another function
    loops = INDEPENDENT["loops_style"]
    authors["copy_reordered"] = {
        "log_softmax": loops["response_only_loss"],
        "response_mask_from_roles": loops["response_mask_from_roles"],
        "response_only_loss": loops["log_softmax"],
        "answer": loops["answer"],
    }
    authors["copy_recommented"] = {cell: recommented(code) for cell, code in INDEPENDENT["einsum_style"].items()}
    # one function out of four: rowwise_style's loss, the rest written independently (lists_style's author)
    authors["copy_one_of_four"] = dict(INDEPENDENT["lists_style"])
    authors["copy_one_of_four"]["response_only_loss"] = INDEPENDENT["index_style"]["response_only_loss"]
    del authors["lists_style"]  # lists_style wrote the other three: only the partial copier submits them
    planted = {
        frozenset({"numpy_style", "copy_renamed"}),
        frozenset({"loops_style", "copy_reordered"}),
        frozenset({"einsum_style", "copy_recommented"}),
        frozenset({"index_style", "copy_one_of_four"}),
    }
    return authors, planted


# ---------------------------------------------------------------- notebooks


def release_notebook() -> nbformat.NotebookNode:
    return nbformat.read(RELEASE, as_version=4)


def student_notebook(cells: dict[str, str], release: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """The release with the solution cells' bodies filled in (the signature and docstring stay, as students do)."""
    notebook = copy.deepcopy(release or release_notebook())
    for cell in notebook.cells:
        grade_id = (cell.metadata.get("nbgrader") or {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in cells:
            kept = cell.source.replace("# YOUR CODE HERE\n", "").replace("raise NotImplementedError()", "")
            if grade_id == "answer":
                cell.source = kept.rstrip() + "\n" + cells[grade_id]
            else:
                cell.source = cells[grade_id]
    return notebook


def write_class(root: Path, authors: dict[str, dict[str, str]], ids: dict[str, str] | None = None) -> None:
    """``root/<student>/ex01_response_only_sft/ex01_response_only_sft.ipynb`` for every author."""
    release = release_notebook()
    for author, cells in authors.items():
        folder = root / (ids or {}).get(author, author) / EXERCISE
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(cells, release), folder / f"{EXERCISE}.ipynb")


def synthetic_solutions(count: int, seed: int = 0) -> dict[str, dict[str, str]]:
    """``count`` students for the benchmark: each cell from one of the independent authors, names renamed."""
    rng = random.Random(seed)
    styles = list(INDEPENDENT.values())
    words = ["x", "arr", "vals", "data", "tmp", "out", "res", "acc", "buf", "item"]
    students = {}
    for number in range(count):
        cells = {cell: rng.choice(styles)[cell] for cell in CELLS}
        names = {old: f"{rng.choice(words)}{number}" for old in ("mask", "targets", "total", "row", "values")}
        students[f"s{number:04d}"] = {cell: renamed(code, names) for cell, code in cells.items()}
    return students
