import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "corpus-only")
DEBUG = True
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "shop_conf.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True
SERVICES = {
    "db": (os.environ.get("DB_HOST", "localhost"), 5432),
    "redis": (os.environ.get("REDIS_HOST", "localhost"), 6379),
}
