"""Field types with the limits the API states, shared by request bodies and query parameters."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl, UrlConstraints

MAX_URL_LENGTH = 2048


def to_utc(moment: datetime) -> datetime:
    """The instant in UTC (a time without a zone is read as UTC).

    `0001-01-01T00:00:00+14:00` is a valid ISO 8601 string whose UTC instant falls before year 1,
    which neither Python nor the database driver can represent; refuse it here instead.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the instant must fall between years 1 and 9999 in UTC") from None


UtcDateTime = Annotated[datetime, AfterValidator(to_utc)]


def _url_length(url: AnyHttpUrl) -> AnyHttpUrl:
    # The limit holds for the URL as stored: percent-encoding can make it longer than the input.
    if len(str(url)) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters once encoded")
    return url


HttpUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=MAX_URL_LENGTH), AfterValidator(_url_length)]
