"""JSON APIs and downloads: discover (public reads), downloads (permanent file links); curation later."""
