"""The one refusal type of the image pipelines, raised inside worker processes."""

from __future__ import annotations


class ImageRejected(Exception):
    """Input the service will not process; ``reason`` is the snake_case code callers see.

    Reasons: not_an_image, unsupported_format, too_large, too_many_pixels, no_face,
    multiple_faces, face_too_small, face_cut_off.
    """

    def __init__(self, reason: str, message: str) -> None:
        # Both go to Exception.args so the error pickles back from a worker process.
        super().__init__(reason, message)
        self.reason = reason
        self.message = message

    def __str__(self) -> str:
        return f"{self.reason}: {self.message}"
