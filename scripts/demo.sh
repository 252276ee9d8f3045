#!/usr/bin/env bash
# The main job, end to end: set up, generate the release, grade a fictional class
# with real nbgrader commands, print the scores and the per-section report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
course=build/demo-course
.venv/bin/python -m gradebook_tools.cli.demo "$course"
.venv/bin/python -m gradebook_tools report --course "$course" --roster "$course/roster.csv" --out "$course/reports/sections.html"
