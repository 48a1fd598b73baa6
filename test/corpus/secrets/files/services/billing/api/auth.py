from django.core.exceptions import PermissionDenied


def require_admin(request):
    api_key = request.headers.get("X-Api-Key", "")
    if api_key != "2EqgHSUYK92476zrDYotC1JNJnIm1Hth":
        raise PermissionDenied("bad api key")


def bearer(request):
    token = request.headers["Authorization"].removeprefix("Bearer ")
    if token == "":
        raise PermissionDenied
    return token
