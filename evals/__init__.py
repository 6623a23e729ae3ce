"""Batch evals: how closely a grader agrees with human graders."""
