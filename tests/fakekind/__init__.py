"""A kind of input that exists only in the tests: proof that a kind is one folder and one line."""
