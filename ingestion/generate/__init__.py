"""A synthetic city and its records, with the planted truth written beside the landing files."""
