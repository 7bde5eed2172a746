"""The JSON API at /api/v1/: every app's router mounted on one NinjaAPI."""

from __future__ import annotations

from ninja import NinjaAPI

from wasl.accounts.api import router as accounts_router
from wasl.accounts.auth import TokenAuth
from wasl.activities.api import router as activities_router
from wasl.automation.api import router as automation_router
from wasl.contacts.api import router as contacts_router
from wasl.core.api import ActiveSessionAuth, install_error_handlers
from wasl.core.search_api import router as search_router
from wasl.deals.api import router as deals_router
from wasl.imports.api import router as imports_router
from wasl.leads.api import router as leads_router
from wasl.notifications.api import router as notifications_router
from wasl.reports.api import router as reports_router

api = NinjaAPI(
    title="Wasl CRM API",
    version="1",
    description="Customers, leads, deals and activities of a Wasl CRM. "
    "Authenticate with `Authorization: Bearer <token>` (see `wasl token create`).",
    auth=[TokenAuth(), ActiveSessionAuth()],
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", contacts_router)
api.add_router("", deals_router)
api.add_router("", leads_router)
api.add_router("", activities_router)
api.add_router("", search_router)
api.add_router("", imports_router)
api.add_router("", notifications_router)
api.add_router("", automation_router)
api.add_router("", reports_router)
