"""Forms for entering and editing POs. They parse input; every rule lives in the services."""

from django import forms
from django.core.exceptions import ValidationError

from qcloop.accounts.models import Organisation, OrganisationKind, Role, User
from qcloop.core.reference import QuantityUnit, currency_choices, market_choices
from qcloop.core.tenancy import for_user
from qcloop.inspections.models import MILESTONE_ORDER

from .models import Factory, POStatus, Product, Supplier
from .services import LineDraft, PODraft, buyers_managed_by

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices):
    return [("", "—"), *choices]


class POForm(forms.Form):
    number = forms.CharField(label="PO number", max_length=60)
    buyer = forms.ModelChoiceField(queryset=Organisation.objects.none())
    agency = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False)
    qc_lead = forms.ModelChoiceField(label="QC lead", queryset=User.objects.none(), required=False)
    supplier = forms.ModelChoiceField(queryset=Supplier.objects.none())
    factory = forms.ModelChoiceField(queryset=Factory.objects.none())
    currency = forms.ChoiceField(choices=[])
    fob_value = forms.DecimalField(label="FOB value", max_digits=20, decimal_places=6)
    unit = forms.ChoiceField(choices=QuantityUnit.choices)
    carton_count = forms.IntegerField(label="Cartons")
    production_start = forms.DateField(required=False, widget=DATE)
    ex_factory_date = forms.DateField(label="Ex-factory date", widget=DATE)
    ship_date = forms.DateField(widget=DATE)
    destination_market = forms.ChoiceField(choices=[])
    retailer_compliance = forms.CharField(max_length=120, required=False)
    new_material_or_tooling = forms.BooleanField(
        label="New material spec or new tooling", required=False
    )
    hero_sku = forms.BooleanField(label="Hero or launch SKU", required=False)
    complex_product = forms.BooleanField(label="Complex product", required=False)
    status = forms.ChoiceField(choices=POStatus.choices, initial=POStatus.OPEN)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    milestones = forms.MultipleChoiceField(
        choices=[(k.value, f"{k.value} · {k.label}") for k in MILESTONE_ORDER],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[k.value for k in MILESTONE_ORDER],
        help_text="Production monitoring covers all four.",
    )

    def __init__(self, *args, user: User, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buyer"].queryset = buyers_managed_by(user)
        if editing:
            # The buyer of a PO never changes.
            self.fields["buyer"].disabled = True
            self.fields["buyer"].queryset = for_user(Organisation, user)
            del self.fields["milestones"]
        else:
            del self.fields["status"]
        visible_orgs = for_user(Organisation, user)
        self.fields["agency"].queryset = visible_orgs.filter(kind=OrganisationKind.AGENCY)
        self.fields["qc_lead"].queryset = for_user(User, user).filter(
            membership_record__role=Role.QC_LEAD
        )
        self.fields["supplier"].queryset = for_user(Supplier, user).select_related("buyer")
        self.fields["factory"].queryset = for_user(Factory, user).select_related("supplier")
        self.fields["currency"].choices = _blank(currency_choices())
        self.fields["destination_market"].choices = _blank(market_choices())
        self.fields["supplier"].widget.attrs.update(
            {
                "hx-get": "/pos/factory-options/",
                "hx-target": "#id_factory",
                "hx-swap": "innerHTML",
                "hx-include": "#id_factory",  # keeps the chosen factory if it still fits
            }
        )

    def draft(self, lines: list[LineDraft]) -> PODraft:
        data = self.cleaned_data
        names = [n for n in PODraft.__dataclass_fields__ if n not in {"lines"} and n in data]
        return PODraft(**{n: data[n] for n in names}, lines=lines)

    def changes(self) -> dict:
        data = self.cleaned_data
        return {n: data[n] for n in PODraft.__dataclass_fields__ if n in data and n != "buyer"}


class LineForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.none(), required=False)
    variant = forms.CharField(max_length=80, required=False)
    quantity = forms.IntegerField(required=False)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = for_user(Product, user)

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not data.get("product") and data.get("quantity") in (None, "")


LineFormSet = forms.formset_factory(LineForm, extra=2, can_delete=True)


def line_drafts(formset) -> tuple[list[LineDraft], list[int]]:
    """The lines the user filled in, and for each the index of its form (for error messages)."""
    lines, positions = [], []
    for index, form in enumerate(formset.forms):
        if not form.is_valid() or form.is_blank or form.cleaned_data.get("DELETE"):
            continue
        data = form.cleaned_data
        lines.append(LineDraft(data["product"], data["quantity"], data.get("variant", "")))
        positions.append(index)
    return lines, positions


def show_errors(error: ValidationError, form, formset, positions: list[int]) -> None:
    """Put each service message next to the field it names."""
    for path, messages in error.message_dict.items():
        parts = path.split(".")
        for message in messages:
            if parts[0] == "lines" and len(parts) == 3:
                line_form = formset.forms[positions[int(parts[1])]]
                line_form.add_error(parts[2] if parts[2] in line_form.fields else None, message)
            elif parts[0] == "lines":
                formset.non_form_errors().append(message)
            elif path in form.fields and not form.fields[path].disabled:
                form.add_error(path, message)
            else:
                form.add_error(None, message)
