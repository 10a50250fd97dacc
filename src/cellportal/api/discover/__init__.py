"""The public Discover API: the read operations of the CELLxGENE Discover Curation API, same paths and JSON."""
