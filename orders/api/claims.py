"""Claims API v1: the store reports a problem with a shipment (JSON, or multipart with
photos), lists its claims, reads one with its case's timeline, and fetches a photo.
Another account's claim is a 404, like one that does not exist."""

import json

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.case_selectors import (
    case_side_of,
    case_timeline,
    claim_detail_queryset,
    claim_for_user,
    claim_photo_for_user,
    claims_visible_to,
)
from orders.exceptions import OrderNotAllowed
from orders.models import CaseChannel, ClaimReason
from orders.photos import MAX_PHOTOS
from orders.services.claims import claim_file
from restapi.figures import FiguresKeptListMixin
from restapi.parsers import JSONParser, unstorable_text_errors
from restapi.serializers import StrictFieldsMixin

# --- Serializers -------------------------------------------------------------------------


class ClaimLineInSerializer(StrictFieldsMixin, serializers.Serializer):
    sku = serializers.CharField(max_length=40)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class ClaimInSerializer(StrictFieldsMixin, serializers.Serializer):
    shipment = serializers.CharField(max_length=20, help_text="Shipment number, e.g. SH-000123.")
    reason = serializers.ChoiceField(choices=ClaimReason.choices)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    lines = ClaimLineInSerializer(many=True, allow_empty=False, max_length=200)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=MAX_PHOTOS,
        help_text="Multipart only: up to 5 JPEG, PNG or HEIC photos, 8 MB each. They are "
        "re-encoded; no metadata is kept.",
    )


class ClaimLineOutSerializer(serializers.Serializer):
    sku = serializers.CharField(source="shipment_line.order_line.sku.code")
    description = serializers.SerializerMethodField()
    shipped = serializers.IntegerField(source="shipment_line.quantity")
    quantity = serializers.IntegerField(help_text="Pairs claimed.")

    def get_description(self, line) -> str:
        sku = line.shipment_line.order_line.sku
        return f"{sku.style.name}, {sku.color}, {sku.size_label} {sku.get_width_display()}"


class ClaimPhotoOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    content_type = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, photo) -> str:
        request = self.context["request"]
        return request.build_absolute_uri(f"/api/v1/claims/{photo.claim.number}/photos/{photo.pk}/")


class DocumentOutSerializer(serializers.Serializer):
    label = serializers.CharField()
    url = serializers.CharField()


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField(help_text="message, note, action or document.")
    side = serializers.CharField(help_text='"store" or "brand".')
    author = serializers.CharField()
    body = serializers.CharField()
    internal = serializers.BooleanField(help_text="A note only the brand's people see.")
    document = serializers.SerializerMethodField()

    def get_document(self, item) -> DocumentOutSerializer(allow_null=True):  # type: ignore[valid-type]
        if not item.document_label:
            return None
        url = (
            self.context["request"].build_absolute_uri(item.document_url)
            if item.document_url
            else ""
        )
        return {"label": item.document_label, "url": url}


class ClaimOutSerializer(serializers.Serializer):
    number = serializers.CharField()
    status = serializers.CharField(source="case.status", help_text='"open" or "resolved".')
    case = serializers.CharField(source="case.number")
    account = serializers.CharField(source="account.number")
    shipment = serializers.CharField(source="shipment.number")
    order = serializers.CharField(source="shipment.order.number")
    reason = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    lines = ClaimLineOutSerializer(many=True)
    photos = ClaimPhotoOutSerializer(many=True)


class ClaimDetailOutSerializer(ClaimOutSerializer):
    timeline = serializers.SerializerMethodField()

    def get_timeline(self, claim) -> TimelineItemSerializer(many=True):  # type: ignore[valid-type]
        side = case_side_of(user=self.context["request"].user, case=claim.case)
        items = case_timeline(case=claim.case, side=side)
        return TimelineItemSerializer(items, many=True, context=self.context).data


# --- Views ---------------------------------------------------------------------------------


class MultipartLinesParser(parsers.MultiPartParser):
    """Multipart bodies carry `lines` as a JSON array in one text field, next to the
    photo files."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        data = {key: parsed.data.get(key) for key in parsed.data}
        errors = unstorable_text_errors(data)
        if errors:
            raise serializers.ValidationError(errors)
        if isinstance(data.get("lines"), str):
            try:
                data["lines"] = json.loads(data["lines"])
            except ValueError as error:
                raise serializers.ValidationError(
                    {"lines": ["In a multipart body, send lines as a JSON array."]}
                ) from error
        data["photos"] = parsed.files.getlist("photos")
        return parsers.DataAndFiles(data, parsed.files)


class ClaimListCreateView(FiguresKeptListMixin, ListAPIView):
    """GET: the claims of the caller's accounts, newest first. POST: report a problem with
    a shipment, by SKU and pairs (never more than shipped less what is already claimed);
    it opens a case whose timeline the answer includes."""

    serializer_class = ClaimOutSerializer
    figures_name = "claims-api"
    parser_classes = [JSONParser, MultipartLinesParser]
    filter_backends = []

    def get_queryset(self):
        return claim_detail_queryset(claims_visible_to(user=self.request.user)).order_by(
            "-created_at", "-pk"
        )

    @extend_schema(
        request={"application/json": ClaimInSerializer, "multipart/form-data": ClaimInSerializer},
        responses={201: ClaimDetailOutSerializer},
        summary="File a claim on a shipment",
    )
    def post(self, request):
        body = ClaimInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            claim = claim_file(
                user=request.user,
                shipment_number=data["shipment"],
                reason=data["reason"],
                note=data.get("note", ""),
                lines=[
                    {"sku": line["sku"], "quantity": line["quantity"]} for line in data["lines"]
                ],
                photos=data.get("photos", []),
                channel=CaseChannel.API,
            )
        except OrderNotAllowed as error:
            raise PermissionDenied(str(error)) from error
        claim = claim_for_user(user=request.user, number=claim.number)
        payload = ClaimDetailOutSerializer(claim, context={"request": request}).data
        return Response(payload, status=status.HTTP_201_CREATED)


class ClaimDetailView(APIView):
    """One claim with its lines, photos and its case's timeline."""

    @extend_schema(responses={200: ClaimDetailOutSerializer})
    def get(self, request, number):
        claim = claim_for_user(user=request.user, number=number)
        if claim is None:
            raise Http404("No such claim.")
        return Response(ClaimDetailOutSerializer(claim, context={"request": request}).data)


class ClaimPhotoView(APIView):
    """A claim's photo as stored (re-encoded JPEG or PNG)."""

    @extend_schema(
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
        }
    )
    def get(self, request, number, photo_id):
        photo = claim_photo_for_user(user=request.user, number=number, photo_id=photo_id)
        if photo is None:
            raise Http404("No such photo.")
        return photo_response(photo)


def photo_response(photo):
    response = FileResponse(photo.image.open("rb"), content_type=photo.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, max-age=3600"
    return response
