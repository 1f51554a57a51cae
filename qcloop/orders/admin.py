from django.contrib import admin

from .models import Factory, POLine, Product, PurchaseOrder, Supplier


class FactoryInline(admin.StackedInline):
    model = Factory
    extra = 0


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "buyer", "country", "organisation"]
    list_filter = ["country", "buyer"]
    search_fields = ["name", "code"]
    inlines = [FactoryInline]


@admin.register(Factory)
class FactoryAdmin(admin.ModelAdmin):
    list_display = ["name", "supplier", "city", "country", "cluster"]
    list_filter = ["country", "cluster"]
    search_fields = ["name", "city", "supplier__name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "category", "buyer"]
    list_filter = ["category", "buyer"]
    search_fields = ["sku", "name"]


class POLineInline(admin.TabularInline):
    model = POLine
    extra = 0
    autocomplete_fields = ["product"]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ["number", "buyer", "supplier", "status", "ex_factory_date", "qc_lead"]
    list_filter = ["status", "buyer", "agency", "destination_market"]
    search_fields = ["number", "supplier__name"]
    date_hierarchy = "ex_factory_date"
    inlines = [POLineInline]
    raw_id_fields = ["qc_lead", "created_by"]
