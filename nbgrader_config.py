"""nbgrader configuration of the course; paths are relative to this folder."""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "alignment-monitoring"

# Graded test cells are decided by the trusted grader, outside the student's
# kernel: TrustedExecute replaces nbgrader's Execute in the autograde chain.
c.Autograde.autograde_preprocessors = [
    "gradebook_tools.grading.execute.TrustedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# A deleted test cell comes back from the gradebook and is graded as usual.
c.OverwriteCells.add_missing_cells = True
