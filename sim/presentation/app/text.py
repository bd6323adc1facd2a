"""Every visible word of the dashboard in English and Chinese, on top of the report's labels.

The report's labels (`sim.presentation.report.labels`) name indicators, tiers, targets and chart titles; this
module adds the dashboard's own texts, and Chinese names for the scenario fields and units that the
schema (`sim.params.param`) declares in English. A field or unit missing here shows in English;
a test checks that every generated control has its Chinese name.
"""

from __future__ import annotations

from sim.presentation.report import labels as report_labels

APP: dict[str, dict[str, str]] = {
    "en": {
        "title": "tiersim planner dashboard",
        "heading": "Planner dashboard",
        "intro": (
            "Move the levers, press Run, and watch the indicators fill in year by year. The scenario is run "
            "against the baseline (today's rules, no levers, the same run settings) with paired replications: "
            "replication i of both uses the same seed, so they share residents and illnesses."
        ),
        "scenario_source": "Scenario loaded from {source}",
        "run": "Run",
        "cancel": "Cancel",
        "save": "Save scenario (TOML)",
        "load": "Load scenario (TOML): drop a file here or click",
        "replications": "Paired replications",
        "replications_unit": "runs of each scenario, seeds {seed}, {seed}+1, …",
        "name": "Scenario name",
        "sec_actions": "Scenario and run",
        "sec_run": "Run settings",
        "sec_levers": "Policy levers",
        "sec_indicators": "Indicators: final simulated year so far",
        "sec_cmp_targets": "Policy targets: scenario and baseline",
        "sec_side_by_side": "Side by side with the baseline",
        "sec_charts": "Scenario charts",
        "sec_districts": "Districts",
        "map_metric": "Colour districts by",
        "map_occupancy": "Bed occupancy",
        "map_primary_revenue": "Primary-care share of medical revenue",
        "map_title": "{metric} by district in {year} (first replication)",
        "map_empty": "Districts: run a scenario to colour them",
        "map_note": (
            "Each district or county of the region's grid: two urban districts in the middle tile, rural counties "
            "around it. Occupancy: occupied bed-days ÷ bed-days of the district's health centres and hospitals. "
            "Revenue share: revenue of its village clinics, stations and health centres ÷ revenue of all its "
            "facilities (visits are recorded by tier only, so the visit share is not available by district)."
        ),
        "progress_idle": "Ready. Nothing is running.",
        "progress_running": (
            "Running: {scenario}, replication {replication} of {replications}, year {year} — {percent}% done"
        ),
        "progress_done": "Finished: {runs} runs of {years} years in {seconds:.0f} s.",
        "progress_cancelled": "Cancelled after {percent}% — the years that finished are shown.",
        "progress_failed": "Failed after {percent}% — the years that finished are shown.",
        "run_failed": "The run failed: {error}",
        "started": "Started: {scenario} against the baseline, {replications} paired replications of {years} years.",
        "cancelling": "Cancelling…",
        "nothing_to_cancel": "Nothing is running.",
        "saved": "Saved {file}: run it with `tiersim run {file}`.",
        "loaded": "Loaded {file}.",
        "invalid": "Invalid setting — {message}",
        "no_results": "No results yet: press Run.",
        "kpi_scenario": "Scenario",
        "kpi_baseline": "Baseline",
        "kpi_difference": "Difference",
        "kpi_year": "in {year}",
        "range": "allowed {range}",
        "switch_on": "on",
        "level_primary": "Primary care",
        "level_secondary": "Secondary",
        "level_tertiary": "Tertiary",
        "district": "District {k}",
        "county": "County {k}",
        "baseline_name": "baseline",
    },
    "zh": {
        "title": "tiersim 规划决策面板",
        "heading": "规划决策面板",
        "intro": (
            "调整政策杠杆，点击“运行”，各项指标逐年更新。情景与基准情景（现行政策、不启用杠杆、相同运行设置）"
            "配对重复运行：两者的第 i 次重复使用相同随机种子，模拟相同的居民与疾病。"
        ),
        "scenario_source": "情景来自 {source}",
        "run": "运行",
        "cancel": "取消",
        "save": "保存情景（TOML）",
        "load": "载入情景（TOML）：拖放文件到此处或点击",
        "replications": "配对重复次数",
        "replications_unit": "每个情景的运行次数，随机种子 {seed}、{seed}+1、…",
        "name": "情景名称",
        "sec_actions": "情景与运行",
        "sec_run": "运行设置",
        "sec_levers": "政策杠杆",
        "sec_indicators": "主要指标：目前最后一个模拟年",
        "sec_cmp_targets": "政策目标：情景与基准",
        "sec_side_by_side": "与基准情景对比",
        "sec_charts": "情景图表",
        "sec_districts": "各区县",
        "map_metric": "区县着色指标",
        "map_occupancy": "床位使用率",
        "map_primary_revenue": "基层医疗卫生机构收入占比",
        "map_title": "{year}年各区县{metric}（第一次重复）",
        "map_empty": "各区县：运行情景后着色",
        "map_note": (
            "区域网格中的各区县：中间为两个城区，周围为农村县。床位使用率：区县内卫生院与医院的实际占用床日数 ÷ "
            "实际开放床日数。收入占比：村卫生室、社区卫生服务站与卫生院收入 ÷ 区县内全部机构收入"
            "（诊疗人次只按机构层级记录，因此无法按区县计算基层诊疗量占比）。"
        ),
        "progress_idle": "就绪，没有正在运行的任务。",
        "progress_running": "运行中：{scenario}，第 {replication}/{replications} 次重复，{year}年 — 已完成 {percent}%",
        "progress_done": "完成：{runs} 次运行，每次 {years} 年，用时 {seconds:.0f} 秒。",
        "progress_cancelled": "已在完成 {percent}% 时取消 — 显示已完成的年份。",
        "progress_failed": "已在完成 {percent}% 时失败 — 显示已完成的年份。",
        "run_failed": "运行失败：{error}",
        "started": "开始：{scenario} 对比基准情景，{replications} 次配对重复，每次 {years} 年。",
        "cancelling": "正在取消…",
        "nothing_to_cancel": "没有正在运行的任务。",
        "saved": "已保存 {file}：可用 `tiersim run {file}` 运行。",
        "loaded": "已载入 {file}。",
        "invalid": "设置无效 — {message}",
        "no_results": "尚无结果：请点击“运行”。",
        "kpi_scenario": "情景",
        "kpi_baseline": "基准",
        "kpi_difference": "差值",
        "kpi_year": "{year}年",
        "range": "允许范围 {range}",
        "switch_on": "启用",
        "level_primary": "基层",
        "level_secondary": "二级",
        "level_tertiary": "三级",
        "district": "城区{k}",
        "county": "县{k}",
        "baseline_name": "baseline",
    },
}
"""The dashboard's own texts by language; both languages have the same keys."""

SECTION_EN: dict[str, str] = {
    "run": "Run settings",
    "reserved_beds": "Reserved beds (Liaocheng)",
    "start_line": "Start-lines and reimbursement rates",
    "global_budget": "Global budget per consortium",
    "capitation": "Capitation for family-doctor teams",
    "per_diem": "Per-diem payment of chronic stays",
    "drg": "Per-case payment (DRG/DIP)",
    "family_doctor": "Family-doctor signing",
    "sanming": "Sanming package",
    "response": "Provider response",
}
"""English titles of the control sections (the run settings and each `[levers.<name>]`)."""

SECTION_ZH: dict[str, str] = {
    "run": "运行设置",
    "reserved_beds": "预留床位（聊城）",
    "start_line": "起付线与报销比例",
    "global_budget": "医保总额付费",
    "capitation": "按人头付费（家庭医生团队）",
    "per_diem": "按床日付费",
    "drg": "按病种/病组付费（DRG/DIP）",
    "family_doctor": "家庭医生签约",
    "sanming": "三明医改",
    "response": "医疗机构行为响应",
}
"""Chinese titles of the control sections (the run settings and each `[levers.<name>]`)."""

FIELD_EN: dict[str, str] = {
    "share": "Reserved share",
    "employee": "Employee scheme",
    "resident": "Resident scheme",
    "warmup_days": "Warm-up",
    "outpatient_start_line": "Outpatient start-line",
    "inpatient_start_line": "Inpatient start-line",
    "target": "Signing target",
    "all": "All residents",
    "key_groups": "Key groups",
}
"""English names of fields whose identifier reads badly as a label; others are their identifier in words."""

FIELD_ZH: dict[str, str] = {
    "name": "情景名称",
    "scale": "抽样比例",
    "years": "模拟年数",
    "seed": "随机种子",
    "warmup_days": "预热天数",
    "enabled": "启用",
    "start_year": "起始模拟年",
    "share": "预留床位比例",
    "release_after_days": "连续闲置几天后开放",
    "signed_only": "仅限签约居民",
    "priority": "优先就诊、优先住院",
    "employee": "职工医保",
    "resident": "城乡居民医保",
    "outpatient_start_line": "门诊起付线",
    "outpatient_rate": "门诊报销比例",
    "outpatient_cap": "门诊支付限额",
    "inpatient_start_line": "住院起付线",
    "inpatient_rate": "住院报销比例",
    "inpatient_cap": "住院支付限额",
    "cumulative_in_consortium": "医联体内转诊累计计算起付线",
    "unreferred_rate_cut": "未经转诊报销比例下调",
    "apply_rate_cut": "实行未转诊差异化报销",
    "down_referral_bonus": "下转奖励",
    "no_start_line_after_down_referral": "下转后免起付线",
    "growth": "预算年增长率",
    "surplus_kept": "结余留用比例",
    "overspend_borne": "超支分担比例",
    "lead_share": "牵头医院分配比例",
    "reinvest_share": "资源下沉投入比例",
    "rate": "支付标准",
    "station_share": "村卫生室/服务站分配比例",
    "price_factor": "病组价格系数",
    "target": "签约率目标",
    "years_to_target": "达到目标所需年数",
    "management_effect": "慢病管理减少急性发作比例",
    "managed_follow_up_pull": "签约慢病患者复诊留在基层的倾向",
    "gatekeeping": "基层首诊（守门人）",
    "gatekeeping_rate_cut": "未经转诊报销比例下调",
    "price_change": "价格调整",
    "salary_reform": "薪酬制度改革强度",
    "enforce_revenue_cap": "执行医药总收入增幅上限",
    "revenue_cap": "医药总收入增幅上限",
    "restraint": "控费反应速度",
    "admission_response": "收治倾向反应",
    "down_referral_response": "下转意愿反应",
    "mix_response": "药品检查量反应",
    "quality_per_investment": "单位投入带来的质量提升",
    "all": "全人群",
    "key_groups": "重点人群",
}
"""Chinese names of the scenario fields that have controls, by field name."""

UNIT_ZH: dict[str, str] = {
    "integer": "整数",
    "share": "比例",
    "share of beds": "占床位比例",
    "share of full scale": "占全市规模比例",
    "share of acute episodes avoided": "避免的急性发作比例",
    "share of the volume incentive removed": "消除的多劳多得激励比例",
    "share (points of rate)": "比例（报销比例点数）",
    "points of rate": "报销比例点数",
    "relative change": "相对变化",
    "years": "年",
    "days": "天",
    "on/off": "开/关",
    "per year": "每年",
    "simulated year (0 = first)": "模拟年（0 = 第一年）",
    "calendar year": "公历年",
    "yuan per signed resident per year": "元/签约居民/年",
    "yuan per admission": "元/次住院",
    "yuan per year": "元/年",
    "yuan per bed-day": "元/床日",
    "yuan per down-referral": "元/次下转",
    "× last year's mean bill of the group": "× 上年该组次均费用",
    "utility": "效用",
    "log-intensity per year at m = 0": "对数强度/年（m = 0 时）",
    "× (m − 1) per year": "× (m − 1)/年",
    "× (1 − m) per year": "× (1 − m)/年",
    "log-volume per year": "对数量/年",
    "quality per unit of investment ÷ member revenue": "质量/（投入 ÷ 成员单位收入）",
}
"""Chinese units, by the English unit string of the schema."""


def texts(lang: str) -> dict[str, str]:
    """The report's labels and the dashboard's own texts of a language.

    Args:
        lang: "en" or "zh".

    Raises:
        ValueError: For any other language.
    """
    return {**report_labels(lang), **APP[lang]}
