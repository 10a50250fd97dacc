"""Uploads from the browser: resumable tus 1.0.0 uploads and upload-from-URL, up to a queued processing job.

- `protocol`: the tus headers, parsed and checked (pure);
- `rules`: what may be uploaded (file name, size, source URL); pure but `check_source_url`, which resolves the host;
- `staging`: the uploads in progress, on disk under ``<work_dir>/uploads/<id>/`` (bytes, offset, metadata);
- `handoff`: a finished upload or a URL becomes a dataset version and a processing job;
- `status`: what a dataset version's status row shows while it is uploaded and processed.

The HTTP side lives in ``api/uploads.py`` and ``api/portal_status.py``; the browser side in
``frontend/src/portal/``. See docs/uploads.md.
"""
