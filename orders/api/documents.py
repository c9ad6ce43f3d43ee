"""Issued documents' PDFs in API v1: the stored file, or 202 while a worker renders it."""

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.documents import KINDS, document_render_asked
from orders.selectors import accounts_visible_to
from restapi.renderers import PDFRenderer

PDF_RETRY_AFTER_SECONDS = 5


class DocumentPreparingSerializer(serializers.Serializer):
    detail = serializers.CharField()
    retry_after = serializers.IntegerField(help_text="Seconds; the same as Retry-After.")

    class Meta:
        ref_name = "DocumentPreparing"


class IssuedDocumentPdfView(APIView):
    """One kind of issued document's PDF by number, among the caller's accounts' (404
    outside them). Subclasses name the kind and the documents of a set of accounts."""

    renderer_classes = [JSONRenderer, PDFRenderer]
    kind: str  # a key of orders.documents.KINDS

    def documents(self, *, accounts):
        raise NotImplementedError

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (202, "application/json"): OpenApiResponse(
                DocumentPreparingSerializer,
                description="Not rendered yet; its render is queued. Retry after Retry-After.",
            ),
        }
    )
    def get(self, request, number):
        accounts = accounts_visible_to(user=request.user)
        document = self.documents(accounts=accounts).filter(number=number).first()
        if document is None:
            raise Http404(f"No such {KINDS[self.kind].model._meta.verbose_name}.")
        return document_pdf_response(kind=self.kind, document=document)


def preparing_response(*, what: str) -> Response:
    """202: a worker renders the file; ask again after Retry-After."""
    return Response(
        {
            "detail": f"{what} is being prepared; retry after Retry-After seconds.",
            "retry_after": PDF_RETRY_AFTER_SECONDS,
        },
        status=status.HTTP_202_ACCEPTED,
        headers={"Retry-After": str(PDF_RETRY_AFTER_SECONDS)},
    )


def document_pdf_response(*, kind: str, document):
    """An issued document's stored PDF. One not rendered yet is queued for a worker at
    once (never rendered on the request path) and answers 202 with Retry-After."""
    file = getattr(document, KINDS[kind].file_field)
    if not file:
        document_render_asked(kind=kind, pk=document.pk)
        return preparing_response(what="The PDF")
    return FileResponse(
        file.open("rb"),
        as_attachment=True,
        filename=f"{document.number}.pdf",
        content_type="application/pdf",
    )
