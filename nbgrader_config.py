"""nbgrader configuration of the course; paths are relative to this folder."""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "alignment-monitoring"

# --- the exchange: release, fetch, submit, collect, feedback (docs/course_workflow.md)
# One folder that every user of the machine can write to; nbgrader never creates
# it. Once, as root:  install -d -m 1777 /srv/nbgrader/exchange
# Students' nbgrader must read the same root: put this line (and the course_id)
# in /etc/jupyter/nbgrader_config.py too. On JupyterHub, mount one shared volume
# (NFS, a shared PersistentVolume) at this same path in the hub's and in every
# user's server, writable to all of them, and keep this value; or set another
# path here and in /etc/jupyter/nbgrader_config.py of the single-user image.
c.Exchange.root = "/srv/nbgrader/exchange"
# collect takes a submission only from the Unix user of the student it names
# (c.OwnerCheckedCollect.unix_users maps ids to users; default: the same name),
# records every refused one (`gradebook-tools status --problems`) and refuses to
# run where all submissions belong to one Unix user (one uid for every student's
# server: anyone could submit as anyone) unless
# c.OwnerCheckedCollect.shared_uid_anyone_can_submit_as_anyone = True.
c.ExchangeFactory.collect = "gradebook_tools.exchange.collect.OwnerCheckedCollect"
# `nbgrader validate` (the Validate button) says when a notebook is another
# exercise's, which grading would refuse whole. The students' own
# /etc/jupyter/nbgrader_config.py needs the same hook (docs/course_workflow.md).
from gradebook_tools.exchange.validate_hook import other_exercise_check  # noqa: E402

c.Execute.on_notebook_start = other_exercise_check(c)

# A linked notebook is refused and linked extra files are left out; a cell with
# malformed nbgrader metadata, a copied graded cell, or one from another exercise
# becomes a plain cell instead of aborting the notebook or the whole class;
# another exercise's whole notebook is refused (its cells replaced by the
# release's, empty); OverwriteCells gives every cell the release knows the
# release's flags (grade, solution, locked, points, cell type) from the
# gradebook before nbgrader's own checks (see gradebook_tools/grading/sanitize.py).
c.Autograde.sanitize_preprocessors = [
    "gradebook_tools.grading.sanitize.RefuseLinks",
    "gradebook_tools.grading.sanitize.RepairMetadata",
    "gradebook_tools.grading.sanitize.RefuseOtherExercise",
    "nbgrader.preprocessors.ClearOutput",
    "gradebook_tools.grading.sanitize.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "gradebook_tools.grading.sanitize.OverwriteCells",
    "gradebook_tools.grading.sanitize.CheckCellMetadata",
]
# Graded test cells are decided by the trusted grader, outside the student's
# kernel: TrustedExecute replaces nbgrader's Execute in the autograde chain.
c.Autograde.autograde_preprocessors = [
    "gradebook_tools.grading.execute.TrustedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "gradebook_tools.grading.sanitize.CheckCellMetadata",
]
# A deleted test cell comes back from the gradebook and is graded as usual.
c.OverwriteCells.add_missing_cells = True
# nbconvert validates the whole notebook against nbformat's schema after each of
# a chain's preprocessors (~20 times a submission); once, at each chain's end,
# checks the same result (a failure then names the chain's last preprocessor).
c.Exporter.optimistic_validation = True
# release_feedback holds back any page older than its grades (manual grading
# since): `gradebook-tools feedback` remakes them (gradebook_tools/pages/freshness.py).
c.ExchangeFactory.release_feedback = "gradebook_tools.pages.freshness.FreshReleaseFeedback"

# --- gradebook_tools: per-section gradebook (docs/gradebook_tools.md) ---------
# Curriculum sections of docs/curriculum.md: the gradebook reports points and
# percentages per section and overall.
c.CourseSections.sections = {
    "mechanics": ["ex01_response_only_sft", "ex02_bradley_terry", "ex03_dpo"],
    "theory": ["ex04_attack_success_rate", "ex05_guardrail_threshold", "ex06_refusal_tradeoff"],
    "workflows": [
        "ex07_review_priority",
        "ex08_reviewer_agreement",
        "ex09_kl_budget",
        "ex10_regression_gate",
    ],
}
# Optional weights of the sections in the overall percentage, e.g.
# {"mechanics": 0.3, "theory": 0.3, "workflows": 0.4}; empty: points over maximum.
c.CourseSections.weights = {}
# `nbgrader export` writes nbgrader's own grades.csv (or --to) unchanged, plus the
# per-section grades_sections.csv next to it. nbgrader's plain exporter alone:
#   nbgrader export --ExportApp.plugin_class=nbgrader.plugins.CsvExportPlugin
c.ExportApp.plugin_class = "gradebook_tools.exports.SectionCsvExportPlugin"

# --- gradebook_tools: student feedback (docs/feedback.md) ---------------------
# `nbgrader generate_feedback <id>` shows each test cell's score and the grader's
# verdict, but not the hidden test regions that the autograded notebook's test
# cells hold again (upstream nbgrader would show them, nbgrader issue #917).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "gradebook_tools.pages.feedback_preprocessors.ClearHiddenTestsInFeedback",
    "gradebook_tools.pages.feedback_preprocessors.NoteUndrawnPlots",
    # the student's own due date, when they submitted, how late, the penalty (docs/calendar.md)
    "gradebook_tools.pages.feedback_preprocessors.NoteDueDate",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    # beside each page, the digest of the grades it shows (stale pages are found and remade)
    "gradebook_tools.pages.freshness.RecordFeedbackGrades",
]
# Pages that work opened from disk: math as MathML, no CDN, no script at all.
c.GenerateFeedback.exporter_class = "gradebook_tools.pages.html_safety.FeedbackHTMLExporter"
# nbgrader's feedback page with a language, landmarks, a heading and contrast of WCAG 2.1 AA (docs/accessibility.md)
c.FeedbackHTMLExporter.template_file = "feedback_accessible.html.j2"

# --- gradebook_tools: what a student wrote never runs in a browser -----------
# Every HTMLExporter nbgrader renders a submission with (generate_feedback's and
# the formgrader's submission view) sanitizes Markdown and outputs
# (gradebook_tools/pages/html_safety.py; HTMLExporter.sanitize_html would not reach
# nbgrader's templates and would drop images and tables).
c.HTMLExporter.filters = {"markdown2html": "gradebook_tools.pages.html_safety.SafeMarkdown2HTML"}
c.HTMLExporter.preprocessors = ["gradebook_tools.pages.html_safety.SanitizeOutputs"]

# --- gradebook_tools: the late policy (docs/calendar.md) ------------------------
# nbgrader autograde and gradebook-tools grade apply it from each student's own due
# date: the class's (gradebook-tools calendar set), their accommodation, their
# extension, their late days. Without values below, late work is not penalized.
c.AssignLatePenalties.plugin_class = "gradebook_tools.gradebook.late_policy.CourseLatePenalty"
# `nbgrader release_assignment` warns when the exercise has no due date yet.
c.ExchangeFactory.release_assignment = "gradebook_tools.exchange.release.DueDateCheckedRelease"
# c.CourseLatePenalty.percent_per_day = 10  # of a notebook's score, per day or part of a day late
# c.CourseLatePenalty.max_percent = 50      # the penalty's cap
# c.CourseLatePenalty.cutoff_days = 7       # later than this: 0 (0: no cut-off)
# c.CourseLatePenalty.late_days = 3         # late days per student per term
# c.CourseLatePenalty.late_days_spent = "auto"  # or "on_request"

# --- gradebook_tools: the ledger of score changes (docs/calendar.md) ----------
# Every change of a score, comment or late penalty made through nbgrader's models
# in a process that loads this file (nbgrader autograde, the formgrader, nbgrader's
# API, gradebook-tools) is appended to the table gradebook_tools_ledger of the
# gradebook, with who, when and why: `gradebook-tools history`.
import gradebook_tools.gradebook.ledger  # noqa: E402

gradebook_tools.gradebook.ledger.install()
