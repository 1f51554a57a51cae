from django.urls import path

from . import import_views, views

app_name = "orders"
urlpatterns = [
    path("pos/", views.po_list, name="po_list"),
    path("pos/new/", views.po_create, name="po_create"),
    path("pos/factory-options/", views.factory_options, name="factory_options"),
    path("pos/import/", import_views.po_import, name="po_import"),
    path("pos/import/<str:token>/", import_views.po_import_mapping, name="po_import_mapping"),
    path(
        "pos/import/<str:token>/preview/",
        import_views.po_import_preview,
        name="po_import_preview",
    ),
    path(
        "pos/import/<str:token>/confirm/",
        import_views.po_import_confirm,
        name="po_import_confirm",
    ),
    path(
        "pos/import/<str:token>/rejected.xlsx",
        import_views.po_import_rejected,
        name="po_import_rejected",
    ),
    path("pos/export.xlsx", import_views.po_export, name="po_export"),
    path("pos/<int:pk>/", views.po_detail, name="po_detail"),
    path("pos/<int:pk>/edit/", views.po_edit, name="po_edit"),
    path("suppliers/", views.supplier_list, name="supplier_list"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier_detail"),
    path("products/", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
]
