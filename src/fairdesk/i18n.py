"""Interface texts in zh-CN (the default) and English, and the choice of language for a request."""

from __future__ import annotations

__all__ = ["LANGUAGES", "negotiate", "problem_title", "t"]

LANGUAGES = ("zh-CN", "en")

#: Titles of problems by error code; a code's prefix ("ticket.") or its HTTP status is the fallback.
PROBLEM_TITLES: dict[str, tuple[str, str]] = {
    "input.invalid": ("输入无效", "Invalid input"),
    "input.empty": ("内容不能为空", "A required value is empty"),
    "input.too_long": ("内容过长", "A value is too long"),
    "input.too_many": ("条目过多", "Too many items"),
    "input.limit": ("分页大小无效", "Invalid page size"),
    "input.cursor": ("分页游标无效", "Invalid page cursor"),
    "request.too_large": ("请求体过大", "Request body too large"),
    "request.malformed": ("请求格式错误", "Malformed request"),
    "route.not_found": ("地址不存在", "No such endpoint"),
    "route.method_not_allowed": ("不支持该请求方法", "Method not allowed"),
    "auth.required": ("需要登录", "Authentication required"),
    "auth.bad_token": ("令牌无效", "Invalid token"),
    "auth.bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "access.role": ("无权执行此操作", "Not allowed for your role"),
    "access.forbidden": ("无权访问", "Forbidden"),
    "access.csrf": ("表单已过期，请刷新后重试", "The form expired; reload and try again"),
    "ticket.not_found": ("工单不存在", "Ticket not found"),
    "sla.target": ("时限目标无效", "Invalid SLA target"),
    "sla.pause_reason": ("暂停原因无效", "Invalid pause reason"),
    "sla.escalation_percent": ("升级节点无效", "Invalid escalation step"),
    "sla.escalation_target": ("升级转交对象无效", "Invalid escalation hand-over"),
    "sla.escalation_duplicate": ("升级节点重复", "Duplicate escalation step"),
    "calendar.shifts_overlap": ("班次时间重叠", "Shifts overlap"),
    "calendar.shift_order": ("班次结束时间须晚于开始时间", "A shift must end after it starts"),
    "calendar.invalid_shift": ("班次格式无效", "Invalid shift"),
    "survey.not_found": ("评价链接无效", "No such survey link"),
    "survey.used": ("该评价链接已使用", "This survey link was already used"),
    "survey.expired": ("该评价链接已过期", "This survey link has expired"),
    "survey.score": ("评分超出范围", "Score out of range"),
    "survey.no_technician": ("本单没有上门技师可评价", "No technician to rate on this request"),
    "webhook.invalid_url": ("回调地址无效", "Invalid webhook URL"),
    "webhook.invalid_events": ("订阅事件无效", "Invalid webhook events"),
    "task.not_found": ("任务不存在", "Task not found"),
    "task.done": ("任务已完成", "Task already done"),
    "input.invalid_email": ("电子邮箱格式无效", "Invalid e-mail address"),
    "ticket.illegal_transition": ("不允许的状态变更", "Transition not allowed"),
    "ticket.transition_forbidden": ("无权执行该状态变更", "You may not make this transition"),
    "ticket.read_only": ("只读账号不能修改", "Read-only account"),
    "ticket.closed": ("工单已关闭", "The ticket is closed"),
    "ticket.unit_not_customers": ("该产品不属于此客户", "The unit belongs to another customer"),
    "ticket.address_not_customers": ("该地址不属于此客户", "The address belongs to another customer"),
    "customer.not_found": ("客户不存在", "Customer not found"),
    "customer.invalid_phone": ("电话号码无效", "Invalid phone number"),
    "customer.phone_required": ("至少需要一个电话号码", "At least one phone number is required"),
    "unit.not_found": ("产品登记不存在", "Unit not found"),
    "unit.serial_registered": ("该序列号已登记", "Serial number already registered"),
    "unit.warranty_before_purchase": ("保修截止日期早于购买日期", "Warranty ends before purchase"),
    "product.not_found": ("产品型号不存在", "Product model not found"),
    "product.exists": ("产品型号已存在", "Product model exists"),
    "idempotency.key_reused": ("幂等键已用于其他请求", "Idempotency key used for a different request"),
    "idempotency.invalid_key": ("幂等键无效", "Invalid idempotency key"),
    "idempotency.in_progress": ("相同请求正在处理中", "The same request is being processed"),
    "user.exists": ("用户名已存在", "Username taken"),
    "user.weak_password": ("密码太短", "Password too short"),
    "brand.not_found": ("品牌不存在", "Brand not found"),
    "service.unavailable": ("服务暂时不可用", "Service temporarily unavailable"),
    "channel.unrecognised": ("不是电话号码或网址", "Not a phone number or web address"),
    "channel.invalid_phone": ("电话号码无效", "Invalid phone number"),
    "channel.registered": ("该渠道已登记", "Channel already registered"),
    "outlet.not_found": ("网点不存在", "Outlet not found"),
    "outlet.exists": ("网点编码已存在", "Outlet code exists"),
    "plan.not_found": ("方案不存在", "Plan not found"),
    "plan.same_plan": ("已是当前方案", "Already on this plan"),
    "plan.retired": ("方案已下架", "Plan retired"),
    "plan.consent_required": ("自动续费需要用户同意", "Auto-renewal needs consent"),
    "subscription.not_found": ("订阅不存在", "Subscription not found"),
    "subscription.concurrent_change": ("订阅刚被修改，请刷新后重试", "Changed meanwhile; retry"),
    "subscription.change_pending": ("已有待生效的变更", "A change is already scheduled"),
    "catalogue.asymmetric": ("方案目录的升降级规则不一致", "The catalogue treats directions differently"),
    "money.precision": ("金额最多两位小数", "At most two decimals"),
    "server.error": ("服务器内部错误", "Internal server error"),
}

_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("请求无效", "Bad request"),
    401: ("需要登录", "Authentication required"),
    403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    409: ("与当前状态冲突", "Conflict"),
    410: ("已失效", "Gone"),
    413: ("请求体过大", "Request body too large"),
    422: ("输入无效", "Invalid input"),
    429: ("请求过于频繁", "Too many requests"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务暂时不可用", "Service temporarily unavailable"),
}

#: Page texts. Keys are short English phrases so templates stay readable.
UI: dict[str, str] = {
    "fairdesk": "fairdesk 售后服务",
    "Log in": "登录",
    "Log out": "退出",
    "Username": "用户名",
    "Password": "密码",
    "Tickets": "工单",
    "My requests": "我的服务请求",
    "Ticket": "工单",
    "Number": "编号",
    "Status": "状态",
    "Category": "类别",
    "Priority": "优先级",
    "Channel": "渠道",
    "Subject": "主题",
    "Description": "描述",
    "Created": "创建时间",
    "Updated": "更新时间",
    "Customer": "客户",
    "History": "处理记录",
    "Move to": "变更为",
    "Note": "备注",
    "Save": "保存",
    "Comment": "留言",
    "Add comment": "添加留言",
    "All": "全部",
    "Filter": "筛选",
    "Older": "更早",
    "No tickets yet.": "暂无工单。",
    "Wrong username or password": "用户名或密码错误",
    "Language": "语言",
    "Signed in as": "当前用户",
    "comment": "留言",
    "created": "创建",
    "transition": "状态变更",
    "Next steps": "可执行操作",
    "None": "无",
    "Back to list": "返回列表",
    "Is this number official?": "这是官方售后电话吗？",
    "Fake after-sales numbers are common. Check a phone number or web address before you call.":
        "假冒“官方售后”电话很常见。拨打前，请先查询号码或网址。",
    "Phone number or web address": "电话号码或网址",
    "Check": "查询",
    "official channel of": "官方渠道，所属品牌：",
    "not registered as any brand's official channel. Do not trust it.": "未登记为任何品牌的官方渠道，请勿轻信。",
    "Report fraud: 12315.": "遇到诈骗可拨打 12315 投诉举报。",
    "How we route you to a person": "我们如何为您转接人工",
    "Resolution due": "处理期限",
    "My plans": "我的服务计划",
    "paid until": "已付至",
    "Changes to this plan take effect": "本计划的变更生效方式",
    "Change to": "改为",
    "Cancel this plan": "取消本计划",
    "Takes effect": "生效时间",
    "Total (positive: you pay; negative: refunded to your original payment method)":
        "合计（正数为您需支付，负数为原路退还）",
    "Continue with my change": "继续我的变更",
    "Back": "返回",
    "Done — your receipt": "已完成——您的回执",
    "Submitted": "提交时间",
    "Rule": "规则",
    "Total": "合计",
    "Refund to": "退款至",
    "Not honoured? Complain to": "未按约定执行？可投诉至",
    "active": "生效中",
    "upgrade": "升级", "downgrade": "降级", "cancel": "取消", "lateral": "变更",
    "month": "月", "quarter": "季度", "year": "年",
    "met": "已按时完成",
    "paused while we wait for you or a part": "等待您的回复或配件期间暂停计时",
    "overdue": "已超时",
    "working hours left": "个工作小时剩余",
    "Steps to a person": "转人工最多几步",
    "At most, messages before a person": "最多几条消息后转人工",
    "Say 转人工 or press “talk to a person” at any time: a person, at once. Callers aged":
        "任何时候说“转人工”或点“联系人工”，立即转接。年满",
    "go straight to a person.": "岁的来电直接转人工。",
    "The queue": "排队规则",
    "Order: waiting time only; vulnerable callers first.": "只按等待时间排序；老年等需要照顾的来电优先。",
    "Never ranked by:": "绝不按以下因素排序：",
    "Assignment:": "分配方式：",
    "Plan changes": "服务计划变更",
    "the same rule for upgrade, downgrade and cancel": "升级、降级、取消适用同一规则",
    "immediate": "即时生效", "next_cycle": "下个周期生效",
    "Live": "实时数据",
    "Waiting for a person now:": "当前等待人工：",
    "Request": "诉求",
    "Conversations (24 h)": "会话数（24 小时）",
    "Median wait for a person (s)": "等待人工中位数（秒）",
    "First response due": "首次响应截止",
    "On-site visit due": "上门截止",
    # surveys
    "Rate the service": "服务评价",
    "Thank you!": "感谢您的评价！",
    "Your rating was recorded. It counts towards the brand's published service score.":
        "您的评价已记录，并将计入品牌公开的服务信用分。",
    "How satisfied are you with this service?": "您对本次服务的满意程度？",
    "How likely are you to recommend us to a friend?": "您向朋友推荐我们的可能性有多大？",
    "How was the technician?": "您对上门技师的评价？",
    "optional": "选填",
    "Anything else? (optional)": "还有其他想说的吗？（选填）",
    "Send": "提交",
    "This link works once.": "此链接仅可使用一次。",
    # statuses
    "new": "新建", "triaged": "已受理", "scheduled": "已预约", "in_progress": "处理中",
    "waiting_customer": "等待客户", "waiting_parts": "等待配件", "resolved": "已解决",
    "closed": "已关闭", "cancelled": "已取消", "reopened": "已重开",
    # categories, channels, priorities
    "repair": "维修", "installation": "安装", "maintenance": "保养", "consultation": "咨询",
    "plan_change": "服务计划变更", "complaint": "投诉",
    "hotline": "热线", "web": "网页", "api": "接口", "chat": "在线客服",
    "low": "低", "normal": "普通", "high": "高", "urgent": "紧急",
}


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str | None,
              default: str = "zh-CN") -> str:
    """?lang= wins, then the cookie, then Accept-Language (English only when asked first), then the default."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        first = accept_language.split(",")[0].split(";")[0].strip().lower()
        if first.startswith("en"):
            return "en"
        if first.startswith("zh"):
            return "zh-CN"
    return default


def problem_title(code: str, status: int, lang: str) -> str:
    pair = PROBLEM_TITLES.get(code) or _BY_STATUS.get(status) or _BY_STATUS[500]
    return pair[0] if lang == "zh-CN" else pair[1]


def t(text: str, lang: str) -> str:
    """The page text in the language; English is the key itself."""
    return UI.get(text, text) if lang == "zh-CN" else text
