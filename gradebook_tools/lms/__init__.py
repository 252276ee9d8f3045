"""LTI 1.3 Advantage: roster sync (NRPS) and grade passback (AGS) with the course's LMS."""
