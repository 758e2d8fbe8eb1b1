"""The shape `GET /search` answers with. The handler builds plain dicts for speed (see
``routers/search.py``); these models document them, and the API fuzz test holds the two together."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from chargebook.api.schemas import LOCATION_ID, doc, nested
from chargebook.ocpi.v221.location_enums import Status
from chargebook.ocpi.v230.locations import ConnectorType

#: OCPI 2.2.1 mod_locations.asciidoc § Status enum, under the name the document shows.
EvseStatus = StrEnum("EvseStatus", {s.name: s.value for s in Status})  # type: ignore[misc]  # dynamic members

CONNECTOR_TYPE_HELP = (
    "OCPI ConnectorType. An open enum since OCPI 2.3.0: a CPO may send a value not listed, so "
    "accept unknown strings."
)


class Coordinates(BaseModel):
    latitude: float = doc("WGS 84 latitude.", 52.500598)
    longitude: float = doc("WGS 84 longitude.", 13.453451)


class Pricing(BaseModel):
    """What booking this EVSE (or the location's cheapest listed EVSE) costs you."""

    estimated_price: float = doc(
        "For `pricing_window`: the CPO's reservation cost plus charging at the connector's power "
        "for the whole window, plus your reservation fee and commission (EUR).", 11.2)
    currency: str = doc("ISO 4217 currency.", "EUR")
    booking_price: float = doc(
        "Deprecated: equal to estimated_price, which is what a booking of this EVSE for this window "
        "is quoted (one estimate for search, booking and fleet limits).", 11.2,
        json_schema_extra={"deprecated": True})
    tariff_id: str | None = doc("The CPO tariff used; null: no tariff known, platform fees only.", "AC-STD")


class Connector(BaseModel):
    connector_id: str = doc("The connector's id on its EVSE.", "1")
    connector_type: ConnectorType | str = doc(CONNECTOR_TYPE_HELP, ConnectorType.IEC_62196_T2)
    power_kw: float = doc("Maximum power in kW.", 11.0)


class Evse(BaseModel):
    evse_uid: str = doc("The EVSE's uid: what a booking names.", "DE*SIM*E0000009*2")
    evse_id: str | None = doc("The eMI3 EVSE id printed on the charger.", "DE*SIM*E0000009*2")
    status: EvseStatus = doc("OCPI EVSE status as the CPO last reported it.", Status.AVAILABLE)
    reservable: bool = doc("Whether the EVSE supports reservation (OCPI capability RESERVABLE).", True)
    connectors: list[Connector] = nested("Connectors matching the filters.")
    pricing: Pricing = nested("This EVSE's price for the window.")


class LocationResult(BaseModel):
    location_id: str = doc("The location's id: what a booking names.", LOCATION_ID)
    name: str | None = doc("The location's name.", "Stadtwerke Berlin 9")
    address: str = doc("Street and number.", "Am Park 77")
    city: str = doc("City.", "Berlin")
    postal_code: str | None = doc("Postal code.", "10758")
    coordinates: Coordinates = nested("Where the location is.")
    distance_km: float = doc("Distance from the searched point, km.", 0.42)
    cpo_name: str = doc("The charge point operator.", "Simulated CPO")
    cpo_party_id: str = doc("The CPO's OCPI party id; send it with POST /bookings when two CPOs "
                            "use the same location_id.", "SIM")
    cpo_country_code: str = doc("The CPO's OCPI country code.", "DE")
    supports_reservation: bool = doc("Whether at least one listed EVSE is reservable.", True)
    evses: list[Evse] = nested("EVSEs matching the filters (removed ones never appear).")
    pricing: Pricing = nested("The location's cheapest listed EVSE.")


class CpoResult(BaseModel):
    cpo_name: str = doc("The CPO's name.", "Simulated CPO")
    results: int = doc("How many of the returned locations it contributed.", 1)
    data_updated_at: str = doc("When its returned data last changed (UTC).", "2026-01-01T00:00:00Z")
    last_sync_at: str | None = doc("When chargebook last pulled its catalogue (UTC).",
                                   "2026-11-24T20:02:00.739Z")


class PricingWindow(BaseModel):
    start_time: str = doc("Start of the window prices are for (UTC).", "2026-11-24T20:22:00Z")
    end_time: str = doc("End of the window prices are for (UTC).", "2026-11-24T21:22:00Z")


class SearchResponse(BaseModel):
    """Bookable chargers near a point, nearest first."""

    total: int = doc("Matches within the radius; a lower bound unless total_exact.", 1)
    total_exact: bool = doc("true: every match within the radius was counted.", False)
    results: list[LocationResult] = nested("The nearest `limit` matching locations, nearest first.")
    cpo_results: dict[str, CpoResult] = nested(
        "Per CPO that gave results (only CPOs in your contract are searched), keyed by its party id.")
    pricing_window: PricingWindow = nested(
        "The window prices are for: the requested one, or one hour from the next quarter hour "
        "at least 15 minutes ahead.")
