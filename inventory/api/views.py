"""Thin API views over inventory selectors and services."""

import hashlib
from functools import cached_property
from typing import ClassVar

import django_filters
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services
from inventory.api.serializers import (
    AvailabilitySerializer,
    ErrorSerializer,
    InboundRunSerializer,
    InboundUpsertSerializer,
    SKUSerializer,
    flat_errors,
)
from inventory.exceptions import EtaChangeRequired
from inventory.facets import CatalogueFilter
from inventory.models import SKU, InboundStatus, PriceList
from inventory.pricing import priced
from restapi.errors import error_response
from restapi.figures import figures_read
from restapi.permissions import HasStaffPermission

AVAILABILITY_WEEKS = 12


class SKUFilter(CatalogueFilter):
    """The catalogue page's filters (inventory.facets), and two of the API's own."""

    style = django_filters.CharFilter(method="filter_style", help_text="Style number, e.g. ST0001.")
    core = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_core",
        help_text="true: only the core (always-stocked) list.",
    )

    def filter_style(self, queryset, name, value):
        return queryset.filter(style__number__iexact=value.strip())

    def filter_core(self, queryset, name, value):
        return queryset.filter(core=value == "true")


class CatalogueCountPaginator(Paginator):
    """Counting a large catalogue is a scan of every matching SKU (tens of milliseconds at
    300k SKUs) that no index avoids. A count at or above LARGE_COUNT is kept in this
    process's cache for COUNT_SECONDS per filter and database, so a big catalogue is
    counted about once a minute, not on every page; a smaller count is exact every time."""

    LARGE_COUNT = 10_000
    COUNT_SECONDS = 60

    def __init__(self, object_list, per_page, *, count_key, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_key = count_key

    @cached_property
    def count(self):
        cached = cache.get(self.count_key)
        if cached is not None and cached >= self.LARGE_COUNT:
            return cached
        count = super().count
        if count >= self.LARGE_COUNT:
            cache.set(self.count_key, count, self.COUNT_SECONDS)
        return count


def catalogue_filter_key(request, *, page_param: str) -> str:
    """The filter a catalogue request asks for, as a key: its whole query string but the
    page number, and the database."""
    params = sorted(
        (name, tuple(values)) for name, values in request.query_params.lists() if name != page_param
    )
    digest = hashlib.sha256(repr((connection.settings_dict["NAME"], params)).encode())
    return digest.hexdigest()


class CataloguePagination(PageNumberPagination):
    count_key = ""

    def django_paginator_class(self, object_list, per_page):
        return CatalogueCountPaginator(object_list, per_page, count_key=self.count_key)

    def paginate_queryset(self, queryset, request, view=None):
        key = catalogue_filter_key(request, page_param=self.page_query_param)
        price_list = getattr(view, "price_list", None)  # price_min/max count by it
        self.count_key = f"catalogue-count:{key}:{price_list.pk if price_list else ''}"
        return super().paginate_queryset(queryset, request, view)


class SKUListView(generics.ListAPIView):
    """The catalogue with availability now and the next ETA."""

    serializer_class = SKUSerializer
    pagination_class = CataloguePagination
    filterset_class = SKUFilter
    # The compiled query of each filter seen (selectors.CatalogueQuery: SQL, not rows),
    # so the FilterSet and the ORM run once per filter, not on every page. Emptied when full.
    compiled: ClassVar[dict[str, selectors.CatalogueQuery]] = {}
    COMPILED_MAX = 256

    def get_queryset(self):
        return priced(SKU.objects.active(), self.price_list)

    @cached_property
    def price_list(self) -> PriceList | None:
        """The caller's price list; the base list here (orders.api.catalogue knows accounts)."""
        return None

    def ship_days(self) -> tuple[int, int]:
        """Processing and receiving business days for ships_by (orders knows the terms)."""
        return (0, 0)

    def filter_queryset(self, queryset):
        filterset = self.filterset_class(
            self.request.query_params, queryset, request=self.request, ship_days=self.ship_days()
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        return filterset.qs

    def catalogue_query(self) -> selectors.CatalogueQuery:
        key = catalogue_filter_key(self.request, page_param=self.paginator.page_query_param)
        key = f"{key}:{self.price_list.pk if self.price_list else ''}"
        query = self.compiled.get(key)
        if query is None:
            # A filter that fails validation raises here and is not kept.
            query = selectors.CatalogueQuery(self.filter_queryset(self.get_queryset()))
            if len(self.compiled) >= self.COMPILED_MAX:
                self.compiled.clear()
            self.compiled[key] = query
        return query

    def list(self, request, *args, **kwargs):
        """The page as the caller's user sees it (their account and its price list follow
        from the user and the query), kept while no figure on it can have changed."""
        return Response(
            figures_read()(
                f"catalogue-api:{request.user.pk}:{request.build_absolute_uri()}", self.page_data
            )
        )

    def page_data(self) -> dict:
        page = self.paginate_queryset(self.catalogue_query())
        return self.get_paginated_response(SKUSerializer(page, many=True).data).data


class AvailabilityView(APIView):
    @extend_schema(responses={200: AvailabilitySerializer, 404: ErrorSerializer})
    def get(self, request, sku):
        """ATS now and week by week (available to promise) for 12 weeks."""
        found = SKU.objects.active().filter(code__iexact=sku.strip()).first()
        if found is None:
            raise Http404
        series = selectors.future_ats(
            sku_ids=[found.pk],
            dates=selectors.week_dates(start=timezone.localdate(), weeks=AVAILABILITY_WEEKS),
        )[found.pk]
        data = {
            "sku": found.code,
            "ats": selectors.ats_by_sku(sku_ids=[found.pk])[found.pk],
            "by_date": [{"date": point.date, "ats": point.ats} for point in series],
        }
        return Response(AvailabilitySerializer(data).data)


class InboundView(generics.ListAPIView):
    """The production calendar (any signed-in user); staff feeds create or update runs."""

    serializer_class = InboundRunSerializer
    permission_classes = [
        IsAuthenticated,
        HasStaffPermission.require(
            "inventory.add_inboundrun", "inventory.change_inboundrun", methods=["POST"]
        ),
    ]

    def get_queryset(self):
        raw = self.request.query_params.get("status", "")
        statuses = [value.strip() for value in raw.split(",") if value.strip()]
        unknown = [value for value in statuses if value not in InboundStatus.values]
        if unknown:
            raise ValidationError(
                {"status": [f"Choose from: {', '.join(InboundStatus.values)} (comma-separated)."]}
            )
        return selectors.inbound_calendar(statuses=statuses or selectors.OPEN_INBOUND_STATUSES)

    def run_context(self, runs):
        etas = selectors.run_etas(run_ids=[run.pk for run in runs])
        return {**self.get_serializer_context(), "run_etas": etas}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                str,
                description="Comma-separated statuses; default: planned, confirmed, in_transit.",
            )
        ],
        responses={200: InboundRunSerializer(many=True), 400: ErrorSerializer},
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        serializer = InboundRunSerializer(page, many=True, context=self.run_context(page))
        return self.get_paginated_response(serializer.data)

    @extend_schema(
        request=InboundUpsertSerializer,
        responses={
            200: InboundRunSerializer,
            201: InboundRunSerializer,
            400: ErrorSerializer,
            403: ErrorSerializer,
            409: ErrorSerializer,
        },
    )
    def post(self, request, *args, **kwargs):
        """Create a run (201) or update an open one (200) by its reference."""
        serializer = InboundUpsertSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(flat_errors(serializer.errors))
        data = serializer.validated_data
        try:
            result = services.inbound_run_upsert(
                reference=data["reference"],
                eta=data["eta"],
                lines=[
                    services.InboundLineInput(line["sku"], line["quantity"])
                    for line in data["lines"]
                ],
                status=data.get("status"),
                factory=data.get("factory"),
                warehouse=data.get("warehouse"),
            )
        except EtaChangeRequired as error:
            return error_response(
                "The ETA of an existing run changes only through "
                f"POST /api/v1/inbound/{data['reference'].strip()}/eta/ with a reason.",
                error.message_dict,
                status.HTTP_409_CONFLICT,
            )
        run = selectors.inbound_calendar(statuses=InboundStatus.values).get(pk=result.run.pk)
        return Response(
            InboundRunSerializer(run, context=self.run_context([run])).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
