"""Renderers for endpoints that answer with a document rather than JSON."""

from rest_framework.renderers import BaseRenderer, JSONRenderer


class PDFRenderer(BaseRenderer):
    """Lets a client that sends `Accept: application/pdf` reach a PDF endpoint (the file
    itself goes out as a FileResponse). Anything else, i.e. an error, stays JSON, with
    the JSON content type."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)
