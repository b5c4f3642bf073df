"""Exercises and a safe autograder: author once, self-check in the notebook, grade a class in isolation.

``check("q1")`` (learner), ``test``/``assert_close`` (test authors); ``authoring.build_assignment``
and ``grade.grade_folder`` (instructors, also as ``aigc-course assign`` / ``aigc-course grade``).
"""

from aigc_course.grading.check import assert_close, assert_shape, check, test

__all__ = ["assert_close", "assert_shape", "check", "test"]
