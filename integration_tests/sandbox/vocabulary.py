"""Word pools for generated content. Unicode on purpose: real projects were multilingual."""

from __future__ import annotations

PROJECT_NAMES = (
    "Storefront Rewrite",
    "Café Ordering ☕",
    "Platform Sandbox (empty)",
    "Платёжный шлюз",
    "モバイルアプリ v2",
    "Legacy Intranet — archived",
    "Ωmega Analytics",
    "Données Clients",
    "Growth Experiments 🚀",
    "Ünïcode Ünlimited",
    "Warehouse Scanner",
    "Partner API",
)

PEOPLE = (
    ("Avery Quinn", "AQ", "avery"),
    ("Zoë Okafor", "ZO", "zoe"),
    ("José Álvarez", "JÁ", "jose"),
    ("Björn Lindqvist", "BL", "bjorn"),
    ("Ngọc Trần", "NT", "ngoc"),
    ("Ayşe Yılmaz", "AY", "ayse"),
    ("李娜", "李", "lina"),
    ("Łukasz Wróbel", "ŁW", "lukasz"),
    ("Amélie Durand", "AD", "amelie"),
    ("Дмитрий Иванов", "ДИ", "dmitry"),
    ("Priya Raman", "PR", "priya"),
    ("Kwame Mensah", "KM", "kwame"),
    ("小林 花", "小林", "hana"),
    ("Mateus Gonçalves", "MG", "mateus"),
    ("Siobhán O'Neill", "SO", "siobhan"),
)

ACCOUNTS = (("Quinn & Co.", "Enterprise"), ("Ünïcode Labs GmbH", "Startup"))

TIME_ZONES = (
    # olson name, offset shown by the API, offset in seconds. Zones without DST keep
    # iteration boundaries at the same UTC hour all year.
    ("America/Phoenix", "-07:00", -7 * 3600),
    ("Etc/UTC", "+00:00", 0),
    ("Asia/Tokyo", "+09:00", 9 * 3600),
    ("Asia/Kolkata", "+05:30", 5 * 3600 + 1800),
    ("America/Bogota", "-05:00", -5 * 3600),
    ("Europe/Moscow", "+03:00", 3 * 3600),
)

LABELS = (
    "admin",
    "api",
    "backend",
    "billing",
    "blog",
    "cart",
    "checkout",
    "deployment",
    "design",
    "documentation",
    "featured products",
    "frontend",
    "i18n",
    "infra",
    "mobile",
    "needs-qa",
    "orders",
    "performance",
    "reporting",
    "search",
    "security",
    "shopping",
    "tech-debt",
    "ux",
    "área-clientes",
    "ünïcode",
    "日本語",
    "épica:paiement",
)

ROLES = (
    "Admin",
    "Shopper",
    "Guest",
    "Signed in shopper",
    "Warehouse clerk",
    "Support agent",
    "Käufer",
    "顧客",
    "Пользователь",
)

ACTIONS = (
    "see list of products, with primary photo as thumbnail",
    "add product to shopping cart",
    "remove product from shopping cart",
    "export orders as CSV file, based on date range and order status",
    "reset forgotten password",
    "pay with a saved credit card",
    "filter the catalogue by price and rating",
    "leave a review with 1-5 stars ⭐",
    "switch the UI language to 日本語",
    "search for «crème brûlée» and find it",
    "see the naïve résumé of an order",
    "download an invoice as PDF",
    "receive an e-mail when an order ships",
    "react to a comment with emoji 🎉",
    "mark a product as featured",
    "import multiple new products from CSV file",
)

BUGS = (
    "Some product photos not scaled properly when browsing products",
    "Pagination broken on the last page of search results",
    "Checkout fails when the address contains ñ or ü",
    "Totals rounded incorrectly for JPY (¥) orders",
    "Emoji in product names 😀 crash the PDF export",
    "Session expires while typing a long review",
    "Ошибка при сохранении профиля",
    "検索結果が表示されない",
    "Timezone shift of one hour in order history",
    "Safari shows a blank page after login",
)

CHORES = (
    "Set up production environment",
    "Upgrade PostgreSQL to the next major version",
    "Rotate API credentials for the payment gateway",
    "Configure full text search",
    "Provide feedback to designer about look/feel of site",
    "Request higher number of production slices, for scaling",
    "Remove the legacy CSV importer",
    "Add Ünïcode test fixtures to CI",
)

RELEASES = (
    "Beta launch",
    "Initial demo to investors",
    "Full production launch",
    "Spring release 🌱",
    "Version 2.0",
    "Holiday freeze",
    "リリース候補",
)

SHORT_DESCRIPTIONS = (
    "Admin should be a special user type. We can create the first admin user directly in the DB.",
    "Needs to work on mobile Safari as well.",
    "See the design in the shared folder. Ask Zoë about edge cases.",
    "Acceptance: the list shows at most 10 items per page.",
    "Les libellés doivent être traduits en français et en español.",
    "顧客からの要望です。",
    "Steps to reproduce:\n1. Open the cart\n2. Add 3 items\n3. Remove the second one",
    "Blocked until the vendor confirms the new API limits.",
)

LONG_PARAGRAPH = (
    "## Background\n\nThe current flow was designed in the very first iteration and has grown by "
    "accretion ever since. Customers report that it is slow, that the error messages are cryptic "
    "and that non-ASCII input (ñ, ü, ø, 漢字, emoji 🎉) is sometimes mangled on the way to the "
    "warehouse system. This story collects everything we know so far.\n\n"
    "## Acceptance criteria\n\n- [ ] The page renders in under 300 ms at the 95th percentile.\n"
    "- [ ] Every message is translated (en, fr, de, ja, ru).\n- [ ] Unicode round-trips intact.\n\n"
)

COMMENTS = (
    "Looks good to me 👍",
    "Can we split this into two stories?",
    "I pushed a fix to the branch, please have another look.",
    "Tested on staging, works as expected.",
    "Ça marche chez moi.",
    "再現できました。",
    "Estimate feels high, I would say 2 points.",
    "Blocked by the vendor again 😞",
    "Merged. Deploying with the next release.",
)

MENTIONS = (
    "@{user} could you take a look?",
    "@{user} is this still needed?",
    "@{user} yo.",
    "Ping @{user}: the designs changed.",
)

TASKS = (
    "Write migration",
    "Add unit tests",
    "Update API docs",
    "QA on staging",
    "Check unscaled images",
    "Ünïcode edge cases",
    "Ask design for assets",
    "Remove feature flag",
)

BLOCKERS = (
    "Waiting for the vendor to enable sandbox access",
    "Needs legal review of the new terms",
    "Depends on #{story_id}",
    "Design not final yet",
)
