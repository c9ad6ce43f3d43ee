from django.apps import AppConfig


class BackordersConfig(AppConfig):
    name = "backorders"
