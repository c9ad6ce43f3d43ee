"""The line sheet in API v1: an account's sheet of one season and/or one category (or
all) as a PDF or an XLSX, the stored file or 202 while a worker renders it (as the
portal's download, orders.line_sheets)."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from orders.api.accounts import ACCOUNT_PARAMETER, account_from
from orders.api.documents import DocumentPreparingSerializer, preparing_response
from orders.line_sheets import FORMATS, LineSheetCategoryUnknown, line_sheet_stored_or_queued
from restapi.renderers import PDFRenderer, XLSXRenderer


class LineSheetView(APIView):
    """The catalogue as your account buys it: each style and colour with your prices,
    MSRP, sizes with pairs available now and the next ETA."""

    renderer_classes = [JSONRenderer, PDFRenderer, XLSXRenderer]

    @extend_schema(
        parameters=[
            ACCOUNT_PARAMETER,
            OpenApiParameter("format", str, enum=list(FORMATS), description="pdf (default)"),
            OpenApiParameter("category", str, description="One category; all when left out."),
            OpenApiParameter("season", str, description="One season's code; all when left out."),
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, FORMATS["xlsx"]): OpenApiResponse(OpenApiTypes.BINARY),
            (202, "application/json"): OpenApiResponse(
                DocumentPreparingSerializer,
                description="Not rendered yet; its render is queued. Retry after Retry-After.",
            ),
        },
    )
    def get(self, request):
        account = account_from(user=request.user, number=request.query_params.get("account"))
        if account is None:
            raise Http404("No such line sheet.")
        file_format = request.query_params.get("format", "pdf")
        try:
            stored = line_sheet_stored_or_queued(
                account=account,
                category=request.query_params.get("category", "").strip(),
                season=request.query_params.get("season", "").strip().upper(),
                file_format=file_format,
            )
        except LineSheetCategoryUnknown:
            raise Http404("No such category or season.") from None
        if stored is None:
            return preparing_response(what="The line sheet")
        return FileResponse(
            default_storage.open(stored, "rb"),
            as_attachment=True,
            filename=stored.rsplit("/", 1)[1],
            content_type=FORMATS[file_format],
        )
