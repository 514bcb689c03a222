"""The Challenge's scores, computed as its evaluator does, and their figures."""
