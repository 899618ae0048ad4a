INSTALLED_APPS = ["django.contrib.admin"]
if DEBUG:
    INSTALLED_APPS.append("django_extensions")
