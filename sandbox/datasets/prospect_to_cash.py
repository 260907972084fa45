"""The prospect-to-cash world: customers, contacts, products, quotes, orders and invoices.

One seeded world is generated and each system gets its view of it:

- Dataverse (Sales): every account and contact, the quotes and orders with their lines,
  and the products an earlier product sync already brought over (most of them, some with
  an old price). Invoices start empty: they come from F&O.
- F&O: every released product, the orders that were already sent to F&O with their
  customers, and an invoice for each of those orders. With a second company, a few
  customers and products live there too (cross-company reads).

The dirt real Sales data has, at fixed places so tests can find it (`DIRT` names them):
accounts without an account number, country spellings ("United States of America ",
"deu", "U.S.", blank), an unknown country ("Narnia"), a name longer than F&O's 100
characters, the same account number twice (once with a leading space: distinct to
Dataverse's key index, equal once trimmed, as integrations compare business keys), keys
with characters that break key URLs (`/ & + % #` and a quote), non-ASCII names, quote and
order lines with write-in products that F&O cannot take.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

MIN_RECORDS = 50
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)

# Where the dirt is: account indexes (0-based) in the generated accounts.
DIRT = {
    "no_account_number": (13, 80, 147),
    "united_states_of_america_trailing_space": 3,
    "deu": 4,
    "narnia": 7,
    "long_name": 11,
    "duplicate_account_number": (20, 21),
    "unsafe_key_characters": (31, 32, 33, 34, 35),
    "non_ascii_name": 40,
}
UNSAFE_ACCOUNT_NUMBERS = ("ACME/EU-7", "R&D+42", "O'NEIL-01", "50%-OFF", "ÖKO#1")
LONG_NAME = (
    "The International Consolidated Amalgamated Manufacturing, Engineering and Distribution "
    "Company of Greater North America Holdings Incorporated"
)
COUNTRIES = (  # (spelling in Sales, F&O country/region id)
    ("United States", "USA"),
    ("USA", "USA"),
    ("US", "USA"),
    ("us", "USA"),
    ("U.S.", "USA"),
    ("United States of America", "USA"),
    ("united States", "USA"),
    ("", "USA"),
    ("Germany", "DEU"),
    ("DE", "DEU"),
    ("Deutschland", "DEU"),
    ("United Kingdom", "GBR"),
    ("UK", "GBR"),
    ("GB", "GBR"),
    ("Canada", "CAN"),
    ("France", "FRA"),
    ("Mexico", "MEX"),
    ("Denmark", "DNK"),
    ("Netherlands", "NLD"),
)
CITIES = {
    "USA": ("Seattle", "Redmond", "Chicago", "Austin", "Boston", "Atlanta"),
    "DEU": ("München", "Berlin", "Hamburg", "Köln"),
    "GBR": ("London", "Manchester", "Leeds"),
    "CAN": ("Toronto", "Vancouver"),
    "FRA": ("Paris", "Lyon"),
    "MEX": ("Ciudad de México", "Monterrey"),
    "DNK": ("København", "Aarhus"),
    "NLD": ("Amsterdam", "Utrecht"),
}
STATES = ("WA", "Washington", "wa", "IL", "TX", "Texas", "MA", "GA", None)
WORDS = (
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Adventure",
    "Litware",
    "Tailspin",
    "Wingtip",
    "Proseware",
    "Alpine",
    "Coho",
    "Blue Yonder",
    "Margie's",
    "Trey",
    "Lucerne",
    "Fourth Coffee",
    "Humongous",
    "Woodgrove",
    "Graphic",
    "Southridge",
    "Wide World",
)
KINDS = ("Traders", "Systems", "Electronics", "Supplies", "Logistics", "Retail", "Industries", "Works", "Group")
SUFFIXES = ("Inc.", "Ltd", "LLC", "GmbH", "Corp.", "A/S", "S.A.", "B.V.", "")
UNICODE_NAMES = (
    "Müller Maschinenbau GmbH",
    "Société Générale de Café",
    "Ørsted Vind A/S",
    "Łódź Elektronika",
    "株式会社サクラ電機",
    "Kaffeerösterei Nürnberg eG",
)
FIRST_NAMES = (
    "Anna",
    "Ben",
    "Chloé",
    "David",
    "Emma",
    "Fatima",
    "Gustav",
    "Hiro",
    "Isabel",
    "Jonas",
    "Zoë",
    "Łukasz",
    "Björn",
    "José",
    "Mary",
    "Nguyễn",
    "Olivia",
    "Patrick",
    "Sean",
    "Yuki",
)
LAST_NAMES = (
    "Smith",
    "O'Brien",
    "Müller",
    "García",
    "Jensen",
    "Kowalski",
    "Nakamura",
    "D'Angelo",
    "Brown",
    "Wilson",
    "Schäfer",
    "Dubois",
    "Lee",
    "Andersson",
    "Martin",
    "Rossi",
)
JOB_TITLES = ("Purchasing Manager", "CFO", "Buyer", "Owner", "Accounts Payable", None)
PRODUCT_GROUPS = (  # (item number prefix, item group, product type, name stems)
    ("A", "Audio", "Item", ("Surround receiver", "Studio monitor", "Amplifier", "Turntable")),
    ("C", "Cables", "Item", ("Speaker cable", "HDMI cable", "Optical cable", "Power cord")),
    ("L", "Laptops", "Item", ("Notebook 14in", "Notebook 16in", "Ultrabook", "Workstation")),
    ("T", "Television", "Item", ("LED TV 55in", "OLED TV 65in", "Projector", "Soundbar")),
    ("S", "Services", "Service", ("Installation", "Extended warranty", "Calibration", "Training")),
)


class _World:
    def __init__(self, records: int, seed: int) -> None:
        if records < MIN_RECORDS:
            raise ValueError(f"the prospect-to-cash data set needs --records {MIN_RECORDS} or more")
        self.rng = random.Random(seed)
        self.accounts = [self._account(i) for i in range(records)]
        self.contacts = [self._contact(j, records) for j in range(records)]
        for contact in self.contacts:
            parent = contact["account"]
            if parent is not None and parent["primary_contact"] is None:
                parent["primary_contact"] = contact
        self.products = [self._product(k) for k in range(max(20, min(records // 10, 500)))]
        self.clean_customers = [
            a
            for a in self.accounts
            if a["number"] and a["number"] == a["number"].strip() and a["iso"] and not set(a["number"]) & set("/&+%#'")
        ]
        self.quotes = [self._deal("QUO", q) for q in range(max(10, records // 8))]
        self.orders = [self._deal("ORD", o) for o in range(max(10, records // 8))]
        invoiced = max(8, records // 12)
        self.synced_orders = self.orders[:invoiced]

    # --- helpers ------------------------------------------------------------------------

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self) -> str:
        moment = EPOCH + timedelta(seconds=self.rng.randrange(0, 540 * 86400))
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- the world ----------------------------------------------------------------------

    def _account(self, i: int) -> dict[str, Any]:
        rng = self.rng
        spelling, iso = rng.choice(COUNTRIES)
        name = f"{rng.choice(WORDS)} {rng.choice(KINDS)} {rng.choice(SUFFIXES)}".strip()
        number: str | None = f"A-{i + 1:06d}"
        if i in DIRT["no_account_number"] or (i > 200 and i % 67 == 13):
            number = None
        if i == DIRT["united_states_of_america_trailing_space"]:
            spelling, iso = "United States of America ", "USA"
        if i == DIRT["deu"]:
            spelling, iso = "deu", "DEU"
        if i == DIRT["narnia"]:
            spelling, iso = "Narnia", None
        if i == DIRT["long_name"]:
            name = LONG_NAME
        if i == DIRT["duplicate_account_number"][1]:
            number = f" A-{i:06d}"
        if i in DIRT["unsafe_key_characters"]:
            number = UNSAFE_ACCOUNT_NUMBERS[DIRT["unsafe_key_characters"].index(i)]
        if i == DIRT["non_ascii_name"] or (i > 200 and i % 97 == 0):
            name = rng.choice(UNICODE_NAMES)
        city_iso = iso if iso in CITIES else "USA"
        created = self.stamp()
        return {
            "id": self.guid(),
            "number": number,
            "name": name,
            "country": spelling or None,
            "iso": iso,
            "city": rng.choice(CITIES[city_iso]),
            "state": rng.choice(STATES) if city_iso == "USA" else None,
            "postal": f"{rng.randrange(10000, 99999)}",
            "street": f"{rng.randrange(1, 9999)} {rng.choice(('Main St', 'Market Street', 'Hauptstraße', 'High St'))}",
            "phone": rng.choice(("+1 425 555 {:04d}", "(425) 555-{:04d}", "425.555.{:04d}", "+49 89 {:06d}")).format(
                rng.randrange(0, 9999)
            ),
            "email": rng.choice((f"info@{_domain(name)}", f"SALES@{_domain(name).upper()}", None)),
            "type": rng.choice((3, 3, 3, 8, 8, 1, None)),
            "revenue": rng.choice((None, float(rng.randrange(50, 50000) * 1000))),
            "employees": rng.choice((None, rng.randrange(1, 5000))),
            "credit": float(rng.randrange(0, 200) * 500),
            "on_hold": rng.random() < 0.03,
            "active": rng.random() > 0.05,
            "created": created,
            "modified": max(created, self.stamp()),
            "primary_contact": None,
        }

    def _contact(self, j: int, records: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        account = None if j % 50 == 49 else self.accounts[rng.randrange(records)]
        email: str | None = f"{_ascii(first)}.{_ascii(last)}.{j + 1}@{_domain(account['name'] if account else 'home')}"
        if j % 31 == 5:
            email = f" {email.title()} "
        if j % 43 == 7:
            email = None
        created = self.stamp()
        return {
            "id": self.guid(),
            "first": first if j % 61 != 3 else None,
            "last": last,
            "person_id": f"CP-{j + 1:06d}" if j % 17 != 11 else None,
            "job": rng.choice(JOB_TITLES),
            "email": email,
            "phone": f"+1 206 555 {rng.randrange(0, 9999):04d}",
            "account": account,
            "country": account["country"] if account else None,
            "city": account["city"] if account else None,
            "created": created,
            "modified": max(created, self.stamp()),
        }

    def _product(self, k: int) -> dict[str, Any]:
        rng = self.rng
        prefix, group, kind, stems = PRODUCT_GROUPS[k % len(PRODUCT_GROUPS)]
        price = round(rng.uniform(5, 3000), 2)
        return {
            "id": self.guid(),
            "number": f"{prefix}{k + 1:04d}",
            "name": f"{rng.choice(stems)} {rng.choice(('Pro', 'Plus', 'Basic', 'X', 'Mk II'))}",
            "group": group,
            "type": kind,
            "price": price,
            "cost": round(price * rng.uniform(0.4, 0.8), 2),
            "in_sales": k % 7 != 3,
            "stale_price": k % 11 == 5,
            "created": self.stamp(),
        }

    def _deal(self, prefix: str, n: int) -> dict[str, Any]:
        rng = self.rng
        customer = self.clean_customers[rng.randrange(len(self.clean_customers))]
        lines = []
        for line_no in range(1, rng.randrange(2, 6)):
            product = rng.choice(self.products)
            write_in = rng.random() < 0.04 or not product["in_sales"]
            quantity = float(rng.randrange(1, 20))
            lines.append(
                {
                    "id": self.guid(),
                    "number": line_no,
                    "product": None if write_in else product,
                    "description": f"{product['name']} (custom)" if write_in else None,
                    "quantity": quantity,
                    "price": product["price"],
                    "amount": round(quantity * product["price"], 2),
                }
            )
        created = self.stamp()
        return {
            "id": self.guid(),
            "number": f"{prefix}-{n + 1:05d}",
            "customer": customer,
            "lines": lines,
            "total": round(sum(line["amount"] for line in lines), 2),
            "state": rng.choice((0, 1, 1, 2)) if prefix == "QUO" else rng.choice((0, 0, 1, 3)),
            "created": created,
            "modified": max(created, self.stamp()),
            "delivery": (EPOCH + timedelta(days=rng.randrange(30, 600))).date().isoformat(),
        }


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum()) or "x"


def _domain(name: str) -> str:
    return (_ascii(name.split()[0]) or "example") + ".example.com"


# --- Dataverse view -------------------------------------------------------------------------


def _dataverse(world: _World) -> dict[str, list[dict[str, Any]]]:
    accounts = [
        {
            "accountid": a["id"],
            "name": a["name"],
            "accountnumber": a["number"],
            "address1_line1": a["street"],
            "address1_city": a["city"],
            "address1_stateorprovince": a["state"],
            "address1_postalcode": a["postal"],
            "address1_country": a["country"],
            "telephone1": a["phone"],
            "emailaddress1": a["email"],
            "customertypecode": a["type"],
            "revenue": a["revenue"],
            "creditlimit": a["credit"],
            "creditonhold": a["on_hold"],
            "numberofemployees": a["employees"],
            "_primarycontactid_value": a["primary_contact"]["id"] if a["primary_contact"] else None,
            "statecode": 0 if a["active"] else 1,
            "statuscode": 1 if a["active"] else 2,
            "createdon": a["created"],
            "modifiedon": a["modified"],
        }
        for a in world.accounts
    ]
    contacts = []
    for c in world.contacts:
        record = {
            "contactid": c["id"],
            "firstname": c["first"],
            "lastname": c["last"],
            "msdyn_contactpersonid": c["person_id"],
            "jobtitle": c["job"],
            "emailaddress1": c["email"],
            "telephone1": c["phone"],
            "address1_city": c["city"],
            "address1_country": c["country"],
            "statecode": 0,
            "statuscode": 1,
            "createdon": c["created"],
            "modifiedon": c["modified"],
        }
        if c["account"] is not None:
            record["_parentcustomerid_value"] = c["account"]["id"]
            record["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] = "account"
        contacts.append(record)
    products = [
        {
            "productid": p["id"],
            "name": p["name"],
            "productnumber": p["number"],
            "producttypecode": 3 if p["type"] == "Service" else 1,
            "price": round(p["price"] * 0.9, 2) if p["stale_price"] else p["price"],
            "standardcost": p["cost"],
            "quantitydecimal": 2,
            "statecode": 0,
            "statuscode": 1,
            "createdon": p["created"],
            "modifiedon": p["created"],
        }
        for p in world.products
        if p["in_sales"]
    ]
    data = {"accounts": accounts, "contacts": contacts, "products": products}
    for header_set, line_set, number_field, deals in (
        ("quotes", "quotedetails", "quotenumber", world.quotes),
        ("salesorders", "salesorderdetails", "ordernumber", world.orders),
    ):
        id_field = header_set.rstrip("s") + "id"
        headers, lines = [], []
        for deal in deals:
            headers.append(
                {
                    id_field: deal["id"],
                    "name": f"{'Quote' if header_set == 'quotes' else 'Order'} for {deal['customer']['name']}"[:300],
                    number_field: deal["number"],
                    "_customerid_value": deal["customer"]["id"],
                    "_customerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account",
                    "totalamount": deal["total"],
                    "requestdeliveryby": deal["delivery"],
                    "shipto_city": deal["customer"]["city"],
                    "shipto_country": deal["customer"]["country"],
                    "statecode": deal["state"],
                    "createdon": deal["created"],
                    "modifiedon": deal["modified"],
                }
            )
            for line in deal["lines"]:
                lines.append(
                    {
                        line_set.removesuffix("s") + "id": line["id"],
                        f"_{id_field}_value": deal["id"],
                        "_productid_value": line["product"]["id"] if line["product"] else None,
                        "productdescription": line["description"],
                        "isproductoverridden": line["product"] is None,
                        "lineitemnumber": line["number"],
                        "quantity": line["quantity"],
                        "priceperunit": line["price"],
                        "baseamount": line["amount"],
                        "extendedamount": line["amount"],
                        "createdon": deal["created"],
                        "modifiedon": deal["modified"],
                    }
                )
        data[header_set] = headers
        data[line_set] = lines
    return data


# --- F&O view -------------------------------------------------------------------------------


def _customer(account: dict[str, Any], company: str, index: int) -> dict[str, Any]:
    return {
        "dataAreaId": company,
        "CustomerAccount": account["number"],
        "OrganizationName": account["name"][:100],
        "PartyType": "Organization",
        "CustomerGroupId": ("10", "20", "30")[index % 3],
        "SalesCurrencyCode": {
            "DEU": "EUR",
            "FRA": "EUR",
            "NLD": "EUR",
            "GBR": "GBP",
            "CAN": "CAD",
            "MEX": "MXN",
            "DNK": "DKK",
        }.get(account["iso"], "USD"),
        "LanguageId": {"DEU": "de", "FRA": "fr", "DNK": "da", "NLD": "nl", "MEX": "es-mx"}.get(account["iso"], "en-us"),
        "AddressCity": account["city"][:60],
        "AddressZipCode": account["postal"],
        "AddressCountryRegionId": account["iso"],
        "AddressStreet": account["street"],
        "PrimaryContactPhone": account["phone"],
        "CreditLimit": account["credit"],
        "CreditLimitIsMandatory": "Yes" if account["credit"] > 50000 else "No",
        "OnHoldStatus": "All" if account["on_hold"] else "No",
        "ModifiedDateTime": account["modified"],
    }


def _released_product(product: dict[str, Any], company: str) -> dict[str, Any]:
    return {
        "dataAreaId": company,
        "ItemNumber": product["number"],
        "ProductNumber": product["number"],
        "ProductName": product["name"],
        "SearchName": product["name"][:20],
        "ProductType": product["type"],
        "ProductSubType": "Product",
        "ItemGroupId": product["group"],
        "ItemModelGroupId": "SRV" if product["type"] == "Service" else "FIFO",
        "SalesUnitSymbol": "h" if product["type"] == "Service" else "ea",
        "InventoryUnitSymbol": "h" if product["type"] == "Service" else "ea",
        "SalesPrice": product["price"],
        "PurchasePrice": product["cost"],
        "IsStoppedForSales": "No",
        "ModifiedDateTime": product["created"],
    }


def _finops(world: _World, companies: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    company = companies[0]
    products = [_released_product(p, company) for p in world.products]
    customers_seen: dict[str, dict[str, Any]] = {}
    for order in world.synced_orders:
        customers_seen.setdefault(order["customer"]["number"], order["customer"])
    customers = [_customer(a, company, i) for i, a in enumerate(customers_seen.values())]
    if len(companies) > 1:
        products += [_released_product(p, companies[1]) for p in world.products[:10]]
        customers += [_customer(a, companies[1], i) for i, a in enumerate(list(customers_seen.values())[:5])]
    orders, order_lines, invoices, invoice_lines = [], [], [], []
    lot = 0
    for n, order in enumerate(world.synced_orders):
        customer = order["customer"]
        currency = _customer(customer, company, 0)["SalesCurrencyCode"]
        orders.append(
            {
                "dataAreaId": company,
                "SalesOrderNumber": order["number"],
                "SalesOrderName": customer["name"][:60],
                "OrderingCustomerAccountNumber": customer["number"],
                "InvoiceCustomerAccountNumber": customer["number"],
                "CurrencyCode": currency,
                "SalesOrderStatus": "Invoiced",
                "RequestedShippingDate": order["delivery"] + "T12:00:00Z",
                "DeliveryAddressCountryRegionId": customer["iso"],
                "DeliveryAddressCity": customer["city"][:60],
                "DefaultShippingSiteId": "1",
                "DefaultShippingWarehouseId": "13",
                "IsSalesProcessingStopped": "No",
                "ModifiedDateTime": order["modified"],
            }
        )
        invoice_number = f"CIV-{n + 1:06d}"
        item_lines = [line for line in order["lines"] if line["product"] is not None]
        for seq, line in enumerate(item_lines, start=1):
            lot += 1
            order_lines.append(
                {
                    "dataAreaId": company,
                    "InventoryLotId": f"{lot:06d}",
                    "SalesOrderNumber": order["number"],
                    "LineCreationSequenceNumber": seq,
                    "ItemNumber": line["product"]["number"],
                    "OrderedSalesQuantity": line["quantity"],
                    "SalesPrice": line["price"],
                    "LineAmount": line["amount"],
                    "SalesUnitSymbol": "h" if line["product"]["type"] == "Service" else "ea",
                    "ShippingSiteId": "1",
                    "ShippingWarehouseId": "13",
                    "SalesOrderLineStatus": "Invoiced",
                    "ModifiedDateTime": order["modified"],
                }
            )
            invoice_lines.append(
                {
                    "dataAreaId": company,
                    "InvoiceNumber": invoice_number,
                    "LineNumber": float(seq),
                    "ItemNumber": line["product"]["number"],
                    "ProductName": line["product"]["name"],
                    "InvoicedQuantity": line["quantity"],
                    "SalesPrice": line["price"],
                    "LineAmount": line["amount"],
                    "SalesUnitSymbol": "h" if line["product"]["type"] == "Service" else "ea",
                    "ModifiedDateTime": order["modified"],
                }
            )
        total = round(sum(line["amount"] for line in item_lines), 2)
        invoiced_on = datetime.fromisoformat(order["modified"]) + timedelta(days=3)
        invoices.append(
            {
                "dataAreaId": company,
                "InvoiceNumber": invoice_number,
                "InvoiceDate": invoiced_on.strftime("%Y-%m-%dT12:00:00Z"),
                "SalesOrderNumber": order["number"],
                "InvoiceCustomerAccountNumber": customer["number"],
                "CurrencyCode": currency,
                "TotalInvoiceAmount": round(total * 1.08, 2),
                "TotalTaxAmount": round(total * 0.08, 2),
                "TotalDiscountAmount": 0.0,
                "InvoiceAddressCountryRegionId": customer["iso"],
                "DueDate": (invoiced_on + timedelta(days=30)).strftime("%Y-%m-%dT12:00:00Z"),
                "ModifiedDateTime": invoiced_on.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    return {
        "ReleasedProductsV2": products,
        "CustomersV3": customers,
        "SalesOrderHeadersV2": orders,
        "SalesOrderLinesV2": order_lines,
        "SalesInvoiceHeadersV2": invoices,
        "SalesInvoiceLinesV2": invoice_lines,
    }


def generate(
    system: str, *, records: int = 3000, seed: int = 1, companies: Sequence[str] = ("usmf",)
) -> dict[str, list[dict[str, Any]]]:
    """The records of one system, by entity set, in an order that satisfies references."""
    world = _World(records, seed)
    return _dataverse(world) if system == "dataverse" else _finops(world, companies)
