"""Great Expectations suites that guard the warehouse, and the checkpoint runner that applies them."""
