"""The association directory and the office's review of names typed by the public (coordinators only).

A name a visitor types on a public form is pending: private until a coordinator accepts it into the
public list, corrects it, or merges it into the association it really is.
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..associations import services
from ..associations.forms import AssociationAcceptForm, AssociationMergeForm, AssociationRenameForm
from ..associations.models import ASSOCIATION_STATUS_LABELS, LEGAL_FORM_LABELS, Association
from ..database import utcnow
from ..extensions import db
from ..inputs import parse_id
from .access import coordinator_required
from .views import bp


def association_or_404(association_id: str) -> Association:
    number = parse_id(association_id)
    association = services.get_association(number) if number is not None else None
    if association is None:
        abort(404)
    return association


def render_association(association: Association, *, accept_form=None, rename_form=None, merge_form=None,
                       status: int = 200):
    entry = services.association_directory(utcnow(), only=association)[0]
    rename_form = rename_form or AssociationRenameForm(
        formdata=None, data={"name": association.name, "district": association.district})
    merge_form = merge_form or AssociationMergeForm(formdata=None, targets=services.merge_targets(association))
    return render_template(
        "admin/associations/show.html", entry=entry, association=association,
        accept_form=accept_form or AssociationAcceptForm(formdata=None), rename_form=rename_form,
        merge_form=merge_form, history=services.association_history(association),
        status_labels=ASSOCIATION_STATUS_LABELS, legal_form_labels=LEGAL_FORM_LABELS,
    ), status


@bp.get("/associations")
@coordinator_required
def associations():
    entries = services.association_directory(utcnow())
    pending = sum(1 for entry in entries if not entry.association.is_accepted)
    return render_template("admin/associations/index.html", entries=entries, pending=pending,
                           status_labels=ASSOCIATION_STATUS_LABELS)


@bp.get("/associations/<association_id>")
@coordinator_required
def association(association_id: str):
    return render_association(association_or_404(association_id))


def refused(association: Association, error: services.AssociationChangeRefused, form=None, **forms):
    """A refusal of the service: beside its field when it names one, else as a message on the page."""
    db.session.rollback()
    if form is not None and error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, error.message]
        return render_association(association, **forms, status=422)
    flash(str(error.message), "error")
    return redirect(url_for(".associations"))


@bp.post("/associations/<association_id>/accept")
@coordinator_required
def association_accept(association_id: str):
    association = association_or_404(association_id)
    form = AssociationAcceptForm()
    if not form.validate_on_submit():
        return render_association(association, accept_form=form, status=422)
    try:
        changed = services.accept_association(association)
    except services.AssociationChangeRefused as error:
        return refused(association, error)
    db.session.commit()
    flash(_("“%(name)s” is now in the public list.", name=association.name) if changed
          else _("“%(name)s” was in the public list already.", name=association.name), "success")
    return redirect(url_for(".associations"))


@bp.post("/associations/<association_id>/rename")
@coordinator_required
def association_rename(association_id: str):
    association = association_or_404(association_id)
    form = AssociationRenameForm()
    if not form.validate_on_submit():
        return render_association(association, rename_form=form, status=422)
    try:
        changed = services.rename_association(association, form.name.data, form.district.data or "")
    except services.AssociationChangeRefused as error:
        return refused(association, error, form, rename_form=form)
    db.session.commit()
    flash(_("The association is now called “%(name)s”.", name=association.name) if changed
          else _("Nothing was changed."), "success")
    return redirect(url_for(".association", association_id=association.id))


@bp.post("/associations/<association_id>/merge")
@coordinator_required
def association_merge(association_id: str):
    association = association_or_404(association_id)
    form = AssociationMergeForm(targets=services.merge_targets(association))
    if not form.validate_on_submit():
        return render_association(association, merge_form=form, status=422)
    merged_name = association.name
    try:
        result = services.merge_associations(association, form.target)
    except services.AssociationChangeRefused as error:
        return refused(association, error, form, merge_form=form)
    db.session.commit()
    flash(" ".join([
        _("“%(merged)s” has been merged into “%(kept)s”.", merged=merged_name, kept=result.kept.name),
        ngettext("%(num)d registration moved,", "%(num)d registrations moved,", result.registrations),
        ngettext("%(num)d contact person moved.", "%(num)d contact persons moved.", result.contacts),
    ]), "success")
    return redirect(url_for(".association", association_id=result.kept.id))
