"""Solving: `plan()` routes each request to an exact method (dynamic program, cost curves,
integer programs) and re-bills the result."""
