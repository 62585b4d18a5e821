"""Demo data for `fairdesk demo`: a safe maker's after-sales desk, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta

from fairdesk.bootstrap import App
from fairdesk.domain.people import Actor, Role
from fairdesk.domain.tickets import Category, Channel, Priority, Status
from fairdesk.services import customers as customer_svc
from fairdesk.services import identity
from fairdesk.services import tickets as ticket_svc

__all__ = ["DEMO_BRAND", "DEMO_PASSWORDS", "load_demo"]

DEMO_BRAND = "angu"

#: username → (role, password). Printed by `fairdesk demo`; for a local demo only.
DEMO_PASSWORDS: dict[str, tuple[str, str]] = {
    "manager": ("manager", "demo-manager"),
    "agent": ("agent", "demo-agent"),
    "dispatcher": ("dispatcher", "demo-dispatcher"),
    "technician": ("technician", "demo-technician"),
    "auditor": ("auditor", "demo-auditor"),
    "customer": ("customer", "demo-customer"),
}

_NAMES = {"manager": "王经理", "agent": "李客服", "dispatcher": "赵调度", "technician": "陈师傅",
          "auditor": "审计员", "customer": "张伟"}

_PRODUCTS = [
    ("AG-3050", "家用电子密码保险柜 3050", "home-safe"),
    ("AG-D80", "指纹识别保险柜 D80", "fingerprint-safe"),
    ("AG-F120", "防火防盗保险柜 F120", "fire-safe"),
]

# Addresses written the way customers write them, in places from the brand's service-area list.
_CUSTOMERS = [
    ("张伟", "13800138000", "福建省漳州市漳浦县绥安镇府前街18号", "AG-3050", "AG3050-24-000117"),
    ("李娜", "13912345678", "广东省深圳市宝安区新安街道创业一路66号", "AG-D80", "AGD80-25-004521"),
    ("王芳", "15011112222", "北京市朝阳区建国路88号SOHO现代城2号楼", "AG-F120", "AGF120-23-000890"),
    ("刘洋", "18633334444", "河南省郑州市中原区建设西路200号", "AG-3050", "AG3050-25-007723"),
    ("陈静", "17755556666", "广东省中山市石岐街道孙文中路100号", "AG-D80", "AGD80-24-001202"),
]

_TICKETS = [
    # (customer index, category, priority, subject, moves)
    (0, Category.REPAIR, Priority.HIGH, "密码面板无反应，无法开箱", [Status.TRIAGED]),  # then booked below
    (1, Category.REPAIR, Priority.NORMAL, "指纹识别失败率高", [Status.TRIAGED, Status.SCHEDULED,
                                                         Status.IN_PROGRESS, Status.WAITING_PARTS]),
    (2, Category.INSTALLATION, Priority.NORMAL, "新购保险柜上门安装固定", [Status.TRIAGED]),
    (3, Category.MAINTENANCE, Priority.LOW, "年度保养预约", []),
    (4, Category.CONSULTATION, Priority.NORMAL, "应急钥匙丢失如何补办", [Status.RESOLVED, Status.CLOSED]),
    (0, Category.REPAIR, Priority.NORMAL, "更换电池后仍提示低电量", [Status.TRIAGED, Status.IN_PROGRESS,
                                                            Status.RESOLVED]),
    (0, Category.MAINTENANCE, Priority.NORMAL, "年度保养：检查锁具、更换电池", [Status.TRIAGED]),  # booked below
]


def load_demo_network(wired: App, operator: Actor) -> int:
    """One outlet per group of the brand's published service-area list, covering that group's places."""
    from importlib import resources

    from fairdesk.reference.regions_data import default_resolver, point_of
    from fairdesk.services import network as network_svc

    resolver = default_resolver()
    text = (resources.files("fairdesk") / "data" / "reference_service_areas.txt").read_text("utf-8")
    groups = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(groups, start=1):
        first = network_svc.split_area_list(line)[0]
        code = f"AG-{number:03d}"
        found = resolver.resolve(first).adcode
        where = point_of(resolver.table.chain(found)) if found else None
        network_svc.create_outlet(network_svc.CreateOutlet(
            operator, code, f"安固{first}服务网点", first, opening_hours="周一至周日 08:00-20:00",
            latitude=where[0] if where else None, longitude=where[1] if where else None),
            wired.uows(), wired.clock, resolver)
        network_svc.import_areas(operator, code, line, wired.uows(), resolver)
    return len(groups)


_PARTS = [
    # sku, name, unit cost, serialized, models it fits (none: every model)
    ("LOCK-3050", "3050 电子密码锁总成", "120.00", False, ("AG-3050",)),
    ("PANEL-3050", "3050 密码面板（含主板）", "260.00", True, ("AG-3050",)),
    ("FP-D80", "D80 指纹识别模块", "180.00", False, ("AG-D80",)),
    ("HINGE-F120", "F120 防火门铰链", "45.00", False, ("AG-F120",)),
    ("KEY-EMG", "应急机械钥匙（一对）", "30.00", False, ("AG-3050", "AG-D80", "AG-F120")),
    ("BAT-AA", "5 号碱性电池", "2.50", False, ()),
]


def load_demo_field(wired: App, operator: Actor, outlets: int, technician_password: str) -> None:
    """Two technicians per outlet (one Monday-Friday, one Wednesday-Sunday), certified for every product line;
    the demo technician login works at the first customer's outlet; original parts in a national warehouse,
    each outlet's store and the demo technician's van."""
    from fairdesk.domain.parts import LocationKind, MovementKind
    from fairdesk.reference.regions_data import default_resolver
    from fairdesk.services import parts as parts_svc
    from fairdesk.services import workforce

    uows, clock = wired.uows, wired.clock
    today = clock.now().astimezone(clock.tz).date()
    lines = [line for _, _, line in _PRODUCTS]
    with uows(readonly=True) as uow:
        outlet_rows = list(uow.outlets.for_brand(operator.brand_id))[:outlets]
    from fairdesk.services import network as network_svc

    route = network_svc.route_address(uows(readonly=True), operator, _CUSTOMERS[0][2], default_resolver())
    demo_outlet = route.outlets[0][1].code if route.outlets else None
    surnames = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
    for i, outlet in enumerate(outlet_rows):
        for j, weekdays in enumerate(("1-5", "3-7")):
            username = f"tech-{outlet.code.lower()}-{j + 1}"
            home = (outlet.latitude + 0.02 * (j + 1), outlet.longitude + 0.02) if outlet.latitude is not None else None
            tech = workforce.add_technician(workforce.AddTechnician(
                operator, username, f"{surnames[(2 * i + j) % len(surnames)]}师傅", outlet.code,
                shifts="08:30-12:30,13:30-19:30", weekdays=weekdays, home_latitude=home[0] if home else None,
                home_longitude=home[1] if home else None), uows(), clock)
            for line in lines:
                workforce.add_certification(operator, tech.user_id, line, 2, date(today.year - 1, 1, 1),
                                            date(today.year + 2, 12, 31), f"AG-{line[:2].upper()}-{tech.user_id:05d}",
                                            uows(), clock)
    me = workforce.add_technician(workforce.AddTechnician(
        operator, "technician", _NAMES["technician"], demo_outlet or outlet_rows[0].code, weekdays="1-7",
        shifts="08:30-12:30,13:30-19:30", email="technician@angu-safes.example", password=technician_password),
        uows(), clock)
    for line in lines:
        # One certificate lapsed last month, so the demo shows that dispatch will not use it.
        valid_to = date(today.year + 2, 12, 31) if line != "fire-safe" else today.replace(day=1) - timedelta(days=1)
        workforce.add_certification(operator, me.user_id, line, 3, date(today.year - 2, 1, 1), valid_to,
                                    f"AG-{line[:2].upper()}-{me.user_id:05d}", uows(), clock)
    for sku, name, cost, serialized, models in _PARTS:
        parts_svc.add_part(operator, sku, name, uows(), clock, serialized=serialized, unit_cost=cost, models=models)
    parts_svc.add_location(operator, "WH-NATIONAL", "全国配件中心仓（佛山）", LocationKind.WAREHOUSE, uows(), clock)
    parts_svc.add_location(operator, "VAN-TECHNICIAN", f"{_NAMES['technician']}工具车", LocationKind.VAN, uows(),
                           clock, technician_id=me.user_id)
    for sku, _, _, serialized, _ in _PARTS:
        qty = 40 if serialized else 500
        serials = tuple(f"{sku}-{n:05d}" for n in range(1, qty + 1)) if serialized else ()
        parts_svc.move_stock(parts_svc.Move(operator, MovementKind.RECEIVE, sku, qty, to_location="WH-NATIONAL",
                                            serials=serials, note="opening stock"), uows(), clock)
        parts_svc.set_reorder(operator, "WH-NATIONAL", sku, 50 if not serialized else 10, 200, uows())
    for sku, qty in (("BAT-AA", 24), ("KEY-EMG", 2), ("LOCK-3050", 1)):
        parts_svc.move_stock(parts_svc.Move(operator, MovementKind.TRANSFER, sku, qty, "WH-NATIONAL",
                                            "VAN-TECHNICIAN"), uows(), clock)
        parts_svc.set_reorder(operator, "VAN-TECHNICIAN", sku, 2 if sku != "BAT-AA" else 8, 4, uows())


def load_demo_plans(wired: App, operator: Actor, customer_id: int) -> None:
    """An extended-warranty family for safes: one change rule (immediate) for up, down and cancel."""
    from decimal import Decimal

    from fairdesk.domain.plans import BillingPeriod, Catalogue, ChangePolicy, Plan, PlanFamily
    from fairdesk.services import plans as plans_svc

    family = PlanFamily("care", "安心保 延保与保养", ChangePolicy.IMMEDIATE,
                        save_offer="保留当前方案，下一年度保养费用减免 20 元（可直接忽略，继续您的变更）")
    plans = [
        Plan("care-basic", "care", "安心保 基础版（年付）", Decimal("99.00"), BillingPeriod.YEAR, ("延长保修 1 年",)),
        Plan("care-plus", "care", "安心保 升级版（年付）", Decimal("199.00"), BillingPeriod.YEAR,
             ("延长保修 1 年", "每年上门保养 1 次")),
        Plan("care-premium", "care", "安心保 尊享版（年付）", Decimal("399.00"), BillingPeriod.YEAR,
             ("延长保修 2 年", "每年上门保养 2 次", "24 小时优先上门")),
    ]
    plans_svc.import_catalogue(operator, Catalogue({family.code: family}, {p.code: p for p in plans}), wired.uows())
    plans_svc.subscribe(plans_svc.Subscribe(operator, customer_id, "care-plus", "alipay", "web", auto_renew=True,
                                            terms_version="1"), wired.uows(), wired.clock)


_COMPLAINTS = [
    # (customer index, category, request, facts, what the business did)
    (0, "refund", "退还延保服务费 199 元",
     "上月在网上取消了延保服务，页面显示已取消，但三十天过去了仍未退款，客服一直说在处理。",
     [("respond", "已核实，财务正在处理退款"), ("propose", "3 个工作日内原路退回 199 元，并补偿 20 元话费")]),
    (1, "repair", "尽快派师傅更换指纹模块", "指纹识别失败率很高，师傅上门检查后说要等配件，已经等了一周没有消息。",
     [("accept", "已受理，正在催配件")]),
    (2, "parts", "更换原厂门锁并赔偿", "安装时更换的门锁不是原厂配件，用了一周就坏了，要求更换原厂锁。", []),
    (3, "parts", "更换原厂门锁", "维修时换上的门锁不是原厂配件，用了一周就坏了，要求更换原厂锁并赔偿损失。", []),
]


def load_demo_complaints(wired: App, brand_id: int, customer_ids: list[int], ticket_ids: dict[int, int]) -> None:
    """Four complaints: a green-channel refund with a proposal waiting for the customer login's answer, an
    accepted repair complaint, and two about the same non-original lock (proposed for grouping). The resolved
    requests' surveys are answered, and the credit scores are computed, so the public pages have figures."""
    import re

    import sqlalchemy as sa

    from fairdesk.adapters.db import tables as t
    from fairdesk.services import complaints as complaint_svc
    from fairdesk.services import credit as credit_svc
    from fairdesk.services import surveys as survey_svc

    agent = Actor(brand_id=brand_id, role=Role.AGENT, label="agent:agent")
    for idx, category, request, facts, steps in _COMPLAINTS:
        out, _ = complaint_svc.file_complaint(complaint_svc.FileComplaint(
            agent, category, request, facts, customer_id=customer_ids[idx], ticket_id=ticket_ids.get(idx)),
            wired.uows, wired.clock)
        for action, note in steps:
            complaint_svc.handle(wired.uows, agent, out["id"], action, wired.clock, note=note)
    # The customer login's own survey link stays unanswered, for the demo's "rate the repair" journey.
    with wired.engine.connect() as conn:
        bodies = conn.execute(sa.select(t.outbox.c.body).where(
            t.outbox.c.kind == "survey_invite", t.outbox.c.recipient != "+86" + _CUSTOMERS[0][1])).scalars().all()
    for i, body in enumerate(bodies):
        token = re.search(r"/s/([\w-]+)", body)
        if token:
            survey_svc.answer_survey(wired.uows(), token.group(1), survey_svc.Answer(csat=5 - i % 2, nps=9 + i % 2),
                                     wired.clock, wired.settings.public_url)
    credit_svc.compute_all(wired.uows, wired.clock)


def load_demo(wired: App) -> bool:
    """Load the demo brand once; returns False when it is already there."""
    uows, clock = wired.uows, wired.clock
    with uows(readonly=True) as uow:
        if uow.brands.by_code(DEMO_BRAND):
            return False
    brand = identity.create_brand(uows(), clock, code=DEMO_BRAND, name="安固保险柜", ticket_prefix="AG")
    identity.set_registration(uows(), Actor(brand.id, Role.MANAGER, label="demo-loader"), clock,  # fictional
                              legal_name="安固保险柜（浙江）有限公司",
                              address="浙江省金华市永康市经济开发区金都路 888 号")
    # A second brand, so that tenant isolation can be seen in the demo too.
    identity.create_brand(uows(), clock, code="acme", name="Acme Appliances", ticket_prefix="AC")
    operator = Actor(brand_id=brand.id, role=Role.MANAGER, label="demo-loader")
    for model, name, line in _PRODUCTS:
        customer_svc.create_product(customer_svc.CreateProduct(operator, model, name, line), uows())
    today = clock.now().astimezone(clock.tz).date()
    customers = []
    for i, (name, phone, address, model, serial) in enumerate(_CUSTOMERS):
        c = customer_svc.create_customer(customer_svc.CreateCustomer(operator, name, [phone], [address]),
                                         uows(), clock)
        bought = today - timedelta(days=200 + 150 * i)
        unit = customer_svc.register_unit(customer_svc.RegisterUnit(
            operator, c.id, model, serial, bought, date(bought.year + 3, bought.month, 1)), uows())
        customers.append((c, unit))
    for username, (role, password) in DEMO_PASSWORDS.items():
        if role == "technician":  # a technician of an outlet: made with the field below
            continue
        identity.create_user(identity.CreateUser(
            brand_code=DEMO_BRAND, username=username, display_name=_NAMES[username], role=Role(role),
            password=password, customer_id=customers[0][0].id if role == "customer" else None,
            email=f"{username}@angu-safes.example" if role != "customer" else None),
            uows(), clock)
    identity.create_user(identity.CreateUser(brand_code="acme", username="acme-manager",
                                             display_name="Acme manager", role=Role.MANAGER,
                                             password="demo-acme-manager",  # noqa: S106 — printed demo credentials
                                             language="en"), uows(), clock)
    outlets = load_demo_network(wired, operator)
    load_demo_field(wired, operator, outlets, DEMO_PASSWORDS["technician"][1])
    load_demo_plans(wired, operator, customers[0][0].id)
    from fairdesk.domain.channels import ChannelKind
    from fairdesk.services import channels as channels_svc
    from fairdesk.services import contact as contact_svc

    contact_svc.add_agent(operator, "agent", ["zh-CN", "en"], 5, wired.uows())  # the hotline agent also chats
    for kind, value, label in ((ChannelKind.PHONE, "400-888-6666", "全国售后服务热线（24 小时）"),
                               (ChannelKind.WEBSITE, "https://www.angu-safes.example/", "官方网站")):
        channels_svc.register_channel(operator, kind, value, label, wired.uows(), wired.clock)
    agent = Actor(brand_id=brand.id, role=Role.AGENT, label="agent:agent")
    opened = []
    for idx, category, priority, subject, moves in _TICKETS:
        customer, unit = customers[idx]
        ticket, _ = ticket_svc.open_ticket(ticket_svc.OpenTicket(
            actor=agent, customer_id=customer.id, channel=Channel.HOTLINE, category=category, subject=subject,
            priority=priority, unit_id=unit.id, address_id=customer.addresses[0].id), uows, clock)
        for to in moves:
            ticket_svc.move_ticket(ticket_svc.MoveTicket(agent, ticket.id, to), uows(), clock,
                                   public_url=wired.settings.public_url)
        opened.append(ticket)
    from fairdesk.services import dispatch as dispatch_svc

    # The first repair: booked in one call, with the part the agent expects to need reserved.
    dispatch_svc.book(dispatch_svc.Booking(Actor(brand.id, Role.DISPATCHER, label="dispatcher:dispatcher"),
                                           opened[0].id, parts=(dispatch_svc.PartRequest("PANEL-3050"),)),
                      uows, clock)
    # The demo technician's second job that day: the first customer asked for the technician they know.
    dispatcher = Actor(brand.id, Role.DISPATCHER, label="dispatcher:dispatcher")
    with uows(readonly=True) as uow:
        technician_id = uow.users.by_username("technician").id
    dispatch_svc.book(dispatch_svc.Booking(dispatcher, opened[-1].id, technician_id=technician_id,
                                           reason="客户指定熟悉的师傅", parts=(dispatch_svc.PartRequest("BAT-AA", 4),)),
                      uows, clock)
    load_demo_complaints(wired, brand.id, [c.id for c, _ in customers],
                         {1: opened[1].id})
    # The dashboard's SLA attainment is a background report: the demo's worker computes the first one as it starts.
    from fairdesk.services import runs as run_svc

    with uows(readonly=True) as uow:
        manager = identity.actor_for(uow.users.by_username(DEMO_PASSWORDS["manager"][0]))
    run_svc.start(uows, manager, clock, "report.sla", {"days": 30})
    return True
