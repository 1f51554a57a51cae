from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("pos/", views.po_list, name="po_list"),
    path("pos/new/", views.po_create, name="po_create"),
    path("pos/factory-options/", views.factory_options, name="factory_options"),
    path("pos/<int:pk>/", views.po_detail, name="po_detail"),
    path("pos/<int:pk>/edit/", views.po_edit, name="po_edit"),
    path("suppliers/", views.supplier_list, name="supplier_list"),
    path("suppliers/<int:pk>/", views.supplier_detail, name="supplier_detail"),
    path("products/", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
]
