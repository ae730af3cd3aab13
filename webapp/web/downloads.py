"""Download buttons: every current label in the format another tool reads."""

from __future__ import annotations

from flask import Blueprint, Response, abort

from webapp.interchange import formats, transfer
from webapp.web.database import get_db, get_taxonomy

bp = Blueprint("downloads", __name__, url_prefix="/downloads")

FILE_STEM = "counterpoint-labels"


@bp.get("/labels.<name>")
def labels(name: str):
    """The labels as a file in the named format (csv, labelstudio, doccano or prodigy)."""
    fmt = formats.FORMATS.get(name)
    if fmt is None:
        abort(404, f"There is no export format “{name}”; formats are {', '.join(formats.FORMATS)}.")
    db = get_db()
    body = fmt.export(transfer.label_rows(db), get_taxonomy())
    return _attachment(body, f"{FILE_STEM}-{fmt.name}{fmt.suffix}", fmt.mimetype)


@bp.get("/labelstudio-config.xml")
def labelstudio_config():
    """The Label Studio labeling interface that matches the Label Studio export."""
    return _attachment(formats.labelstudio_config(get_taxonomy()), "counterpoint-labelstudio.xml",
                       "application/xml")


def _attachment(body: str, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
