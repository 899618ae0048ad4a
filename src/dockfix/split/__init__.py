"""Helpers of the multi-stage split: classification, tables, images, equivalence."""
