"""Renderers for endpoints that answer with a file rather than JSON."""

from rest_framework.renderers import BaseRenderer, JSONRenderer


class FileRenderer(BaseRenderer):
    """Lets a client that asks for a file's type (`Accept`, or `?format=` on lists)
    reach an endpoint whose view answers with the file itself (a FileResponse, or an
    HttpResponse holding it). Anything else, i.e. an error, stays JSON, with the JSON
    content type."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data, "application/json", renderer_context)


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(FileRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
