"""Similarity reports: winnowing fingerprints of the students' own code across a class and past terms."""
