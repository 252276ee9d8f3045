"""nbgrader exchange classes of the course: who may hand in what, decided by the owner of the files."""
