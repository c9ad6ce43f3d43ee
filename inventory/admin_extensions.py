"""Admin pages that apps above inventory extend without touching them.

An app registers an ``AdminExtension`` for a model with ``admin_extend``: orders adds its
audit trail to the stock and run pages, backorders adds the run actions of its engine.
Pages read their extensions on every request, in a fixed order (``position``, then the
extension's dotted name), so nobody unregisters or rebuilds another app's admin class and
the order of INSTALLED_APPS changes nothing."""

import functools
from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import flatten_fieldsets

_registered: dict[type, list["AdminExtension"]] = defaultdict(list)


def extension_action(*, description: str, permission: str):
    """Marks a function (page, request, queryset) as an extension's admin action, offered
    only to users holding ``permission`` ("app_label.codename")."""

    def decorate(func):
        func.short_description = description
        func.required_permission = permission
        return func

    return decorate


class AdminExtension:
    """What an extension may add to a page. The write hooks wrap the page's own write:
    each receives ``proceed``, the rest of the chain, and calls it exactly once."""

    position = 100  # lower wraps the writes from further out and lists first
    inlines: tuple = ()
    actions: tuple = ()  # functions decorated with extension_action
    form_fields: tuple = ()  # non-model fields the form hook adds
    change_form_includes: tuple = ()  # templates rendered under the change form

    def form(self, page, request, obj, form_class):
        return form_class

    def fieldsets(self, page, request, obj, fieldsets):
        return fieldsets

    def change_context(self, page, request, obj) -> dict:
        return {}

    def save_model(self, page, request, obj, form, change, proceed):
        proceed()

    def save_formset(self, page, request, form, formset, change, proceed):
        proceed()

    def delete_model(self, page, request, obj, proceed):
        proceed()


def admin_extend(model, extension: AdminExtension) -> None:
    """Adds ``extension`` to every ExtensibleAdmin page of ``model`` (once per class)."""
    if not any(type(known) is type(extension) for known in _registered[model]):
        _registered[model].append(extension)


def _extension_key(extension):
    kind = type(extension)
    return (extension.position, f"{kind.__module__}.{kind.__qualname__}")


class ExtensibleAdmin(admin.ModelAdmin):
    """A ModelAdmin whose pages take registered extensions. Subclasses customise the
    write itself in ``write_model`` (not ``save_model``) so extensions still wrap it."""

    extensions: tuple = ()  # the page's own, besides those registered for its model
    change_form_template = "admin/extensible_change_form.html"

    def get_extensions(self) -> list[AdminExtension]:
        return sorted([*self.extensions, *_registered[self.model]], key=_extension_key)

    def _around(self, hook: str, innermost, *args) -> None:
        call = innermost
        for extension in reversed(self.get_extensions()):
            call = functools.partial(getattr(extension, hook), self, *args, call)
        call()

    # --- reads ---------------------------------------------------------------------

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        for extension in self.get_extensions():
            inlines += [inline for inline in extension.inlines if inline not in inlines]
        return inlines

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        for extension in self.get_extensions():
            for func in extension.actions:
                if request.user.has_perm(func.required_permission):
                    actions[func.__name__] = (func, func.__name__, func.short_description)
        return actions

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        for extension in self.get_extensions():
            fieldsets = extension.fieldsets(self, request, obj, fieldsets)
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        extra = {name for extension in self.get_extensions() for name in extension.form_fields}
        fields = (
            kwargs["fields"]
            if "fields" in kwargs
            else flatten_fieldsets(self.get_fieldsets(request, obj))
        )
        if fields is not None:
            # The extensions declare these on the form themselves, not on the model.
            kwargs["fields"] = [name for name in fields if name not in extra]
        form = super().get_form(request, obj, change=change, **kwargs)
        for extension in self.get_extensions():
            form = extension.form(self, request, obj, form)
        return form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {})}
        obj = self.get_object(request, object_id)
        includes = []
        if obj is not None:
            for extension in self.get_extensions():
                extra_context.update(extension.change_context(self, request, obj))
                includes += extension.change_form_includes
        extra_context["extension_includes"] = includes
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    # --- writes ----------------------------------------------------------------------

    def write_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)

    def save_model(self, request, obj, form, change):
        inner = functools.partial(self.write_model, request, obj, form, change)
        self._around("save_model", inner, request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        inner = functools.partial(super().save_formset, request, form, formset, change)
        self._around("save_formset", inner, request, form, formset, change)

    def delete_model(self, request, obj):
        inner = functools.partial(super().delete_model, request, obj)
        self._around("delete_model", inner, request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
