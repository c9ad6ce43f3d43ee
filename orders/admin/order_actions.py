"""The actions on the order page, and how any app adds one.

An app registers an action with ``order_action_register`` (orders registers its
resolutions in order_resolutions, backorders its "Change an ETA"); the order page lists
them by position and runs them through one view. Nobody edits another module's list."""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured, ValidationError

from orders.exceptions import OrderError
from orders.models import Case, CaseStatus
from orders.services.service_desk import StaffNotAllowed


@dataclass(frozen=True)
class ActionDone:
    """What a handler reports: done (a success message, and the document it issued, for
    the store), or not done, such as a request above the user's authority left waiting
    for approval (shown as an error)."""

    message: str
    level: int = messages.SUCCESS
    document_label: str = ""
    document_url: str = ""

    @property
    def done(self) -> bool:
        return self.level == messages.SUCCESS


@dataclass(frozen=True)
class OrderAction:
    slug: str
    title: str
    form: type["ActionForm"]
    # (bound valid form, request, order) -> ActionDone; a service's "lines[i]" errors land
    # on the form's line rows in the order form.chosen_lines() gives them
    handler: Callable
    permission: str  # "app_label.codename"
    position: int
    query_initial: tuple[str, ...]  # GET parameters (ids) that preselect a form field


_actions: dict[str, OrderAction] = {}


def order_action_register(
    *, slug, title, form, handler, permission, position=100, query_initial=()
) -> None:
    """Offers an action on the order page to users holding ``permission``."""
    action = OrderAction(slug, title, form, handler, permission, position, tuple(query_initial))
    known = _actions.get(slug)
    if known is not None and known.handler.__qualname__ != handler.__qualname__:
        raise ImproperlyConfigured(f"Two order actions are registered as {slug!r}.")
    _actions[slug] = action


def order_actions_for(user) -> list[OrderAction]:
    """The actions ``user`` may take, in the order the page lists them."""
    return sorted(
        (action for action in _actions.values() if user.has_perm(action.permission)),
        key=lambda action: (action.position, action.slug),
    )


def order_action(slug: str) -> OrderAction | None:
    return _actions.get(slug)


def action_run(action: OrderAction, *, form, request, order) -> ActionDone | None:
    """Run an action on a valid form; a refusal or a service's errors land on the form
    (by field and line row) and give None."""
    try:
        return action.handler(form, request, order)
    except StaffNotAllowed as exc:
        form.add_error(None, str(exc))
    except ValidationError as exc:
        form.apply_service_errors(exc, row_fields=[name for name, _, _ in form.chosen_lines()])
    except (OrderError, ValueError) as exc:
        form.add_error(None, str(exc))
    return None


class CaseForAccountField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"Case {obj.pk}: {obj.get_reason_display()} ({obj.get_channel_display()})"


def case_field(required=True):
    return CaseForAccountField(
        queryset=Case.objects.none(),
        required=required,
        help_text="The contact this action resolves (open one from the order page).",
    )


class ActionForm(forms.Form):
    """Base of the action forms: the case the action belongs to, plus per-line rows."""

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.line_fields = []  # (field name, order line), in the order sent to the service
        if "case" in self.fields:
            open_cases = Case.objects.filter(account=order.account, status=CaseStatus.OPEN)
            self.fields["case"].queryset = open_cases.order_by("-opened_at")
            preferred = open_cases.filter(order=order).order_by("-opened_at").first()
            if preferred is not None and not self.is_bound:
                self.fields["case"].initial = preferred.pk

    def add_line_fields(self, lines, *, label, limit):
        for line in lines:
            name = f"line_{line.pk}"
            self.fields[name] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=limit(line) or None,
                label=f"{line.sku.code}",
                help_text=label(line),
            )
            self.line_fields.append((name, line))

    def chosen_lines(self):
        return [
            (name, line, self.cleaned_data[name])
            for name, line in self.line_fields
            if self.cleaned_data.get(name)
        ]

    def apply_service_errors(self, error: ValidationError, *, row_fields=()):
        """Map a service's {"lines[i].quantity": [...], "amount": [...]} onto the form."""
        for key, problems in error.message_dict.items():
            field = key
            if key.startswith("lines[") and "]" in key:
                index = int(key[6 : key.index("]")])
                field = row_fields[index] if index < len(row_fields) else None
            if field not in self.fields:
                field = None
            for problem in problems:
                self.add_error(field, problem if field else f"{key}: {problem}")
