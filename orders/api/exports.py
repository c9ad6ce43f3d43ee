"""`?format=csv` and `?format=xlsx` on the API's lists: the whole filtered list (not a
page) as a spreadsheet, through the same exports as the portal's download links."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer

from orders.exports import FORMATS, Export, export_response
from restapi.renderers import CSVRenderer, XLSXRenderer

FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=list(FORMATS),
    description="csv or xlsx: the whole list with the same filters as a spreadsheet "
    "download (unpaginated; money as numbers, dates as dates). Without it: JSON pages.",
)


class ExportableListMixin:
    """Put before ListAPIView; set `export`."""

    export: Export
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    def list(self, request, *args, **kwargs):
        file_format = request.accepted_renderer.format
        if file_format not in FORMATS:
            return super().list(request, *args, **kwargs)
        return export_response(
            export=self.export,
            queryset=self.filter_queryset(self.get_queryset()),
            file_format=file_format,
            kept_as=f"{request.user.pk}:{request.build_absolute_uri()}",
        )


def exportable_list_schema(serializer, *, parameters=()):
    """The list's OpenAPI entry: JSON pages, or the spreadsheet `format` asks for."""
    return extend_schema(
        parameters=[FORMAT_PARAMETER, *parameters],
        responses={
            (200, "application/json"): serializer,
            (200, CSVRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY),
            (200, XLSXRenderer.media_type): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
