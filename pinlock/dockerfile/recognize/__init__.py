"""One recognizer per kind of pin site; sites.find_sites walks the Dockerfile and calls them."""
