"""The photo worker: turns pending event photos into faces and matches.

``python -m findme_photo_worker``. Settings: FINDME_WORKER_*. It shares the events
service's tables (``findme_events.store``) and blob store, and calls the selfie
service's AnalyzePhoto for the image work.
"""
