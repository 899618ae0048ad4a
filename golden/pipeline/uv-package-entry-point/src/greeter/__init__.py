"""A small packaged command-line app."""
