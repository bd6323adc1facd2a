"""Policy levers, each a section `[levers.<name>]` of the scenario citing the policy clause it implements.

A lever has `enabled`, a `start_year` and its parameters; docs/levers.md gives the clause each one
implements and how the model implements it.

No lever is hard-coded in the model loop: at the start of each year `Policy.for_year` turns the
scenario's levers into plain values (rules tables, price multipliers, flags) that the model's
steps read. A lever is active from simulated year `start_year` (0 = the first year) when enabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, ValidationError

from sim.parameters.insurance import InsuranceParams, SchemeRules
from sim.parameters.prices import COMPONENTS
from sim.params import TIERS, StrictModel, by_level, by_tier, deep_merge, param, table_field

# The policy texts, by their docs/references.md keys; a citation adds the text's section and the clause.
GUIZHOU = "Guizhou plan interpretation [guizhou-city-groups-2024]"
SANMING = "Sanming plan [sanming-six-projects-2021]"
YANGJIANG = "Yangjiang plan [yangjiang-consortia-2017]"
LIAOCHENG = "Liaocheng plan [liaocheng-plan-2024]"
CHONGQING = "Chongqing opinions [chongqing-prevention-2020]"


class Lever(StrictModel):
    """Common switch of every lever.

    The model reads a lever's values only while it is active (`active`, `Policy.for_year`), except
    those named in `acts_before_start`: so a run is the same under any lever settings until the
    first enabled lever starts, which `sim.checkpoint` relies on.
    """

    acts_before_start: ClassVar[tuple[str, ...]] = ()
    """Fields the model reads whether or not the lever is active."""

    enabled: bool = param(False, "on/off", "setting: off in the baseline", "Switch the lever on.")
    start_year: int = param(
        1,
        "simulated year (0 = first)",
        "setting: year 1, so year 0 is the baseline's",
        "First simulated year the lever applies.",
        ge=0,
        le=100,
    )

    def active(self, year: int) -> bool:
        """Whether the lever applies in simulated year `year`."""
        return self.enabled and year >= self.start_year


class ReservedBeds(Lever):
    """Reserved beds and priority at lead hospitals for referred signed residents (预留床位, 优先就诊/检查/住院).

    [liaocheng-plan-2024] 三(一): "原则上牵头医院要预留一定数量的住院床位向家庭医生签约服务团队或基层医疗卫生机构
    下沉,经基层转诊的签约居民可优先就诊、优先检查、优先住院"; [yangjiang-consortia-2017] 三(三): "二级以上医疗机构
    要为医联体内上转的患者优先安排检查检验、设立住院绿色通道".
    """

    # Who counts as referred to the lead hospital (the patients whose waits the indicators compare)
    # is the same with the lever off; the release rule enters `Policy` unconditionally.
    acts_before_start = ("signed_only", "release_after_days")

    share: float = param(
        0.10,
        "share of beds",
        f"{LIAOCHENG} 三(一): 预留一定数量的住院床位; the share: assumption (no estimate found)",
        "Share of each consortium lead hospital's beds held for patients its consortium's primary care refers.",
        ge=0,
        le=1,
    )
    release_after_days: int = param(
        3,
        "days",
        "assumption: no empirical estimate found; sweep it",
        "When some of a lead hospital's reserved beds have stood unused by referred patients this many days "
        "in a row, its whole reserve is open to any patient until referred patients fill it again.",
        ge=0,
        le=365,
    )
    signed_only: bool = param(
        True,
        "on/off",
        f"{LIAOCHENG} 三(一): 经基层转诊的签约居民",
        "Only referred residents signed with a family doctor qualify.",
    )
    priority: bool = param(
        True,
        "on/off",
        f"{LIAOCHENG} 三(一): 优先就诊、优先检查、优先住院",
        "Qualifying patients go ahead of others in the lead hospital's outpatient queue (in the admission "
        "list they always go first while beds are reserved).",
    )


UnreferredRateCut = by_level(
    "UnreferredRateCut",
    (0.0, 0.10, 0.15),
    "share (points of rate)",
    f"{LIAOCHENG} 五(三): 落实签约居民转诊、用药、医保等方面差异化政策; size: assumption",
    "Reimbursement rate cut for visits and admissions not referred by primary care",
    ge=0,
    le=1,
)


class StartLine(Lever):
    """Start-lines and reimbursement rates by level, and rules along referral chains (起付线).

    [yangjiang-consortia-2017] 五(三): "合理确定三级医院、二级医院、镇卫生院等不同级别…医疗机构的支付标准,
    在医联体内按规定转诊的病人按照连续的诊疗过程累计计算起付线"; "鼓励推行医联体内上级医院下转病人
    由医保资金给予适当奖励的机制".
    """

    employee: SchemeRules | None = Field(
        None,
        description="Employee-scheme rules from start_year; keys not given keep insurance.employee's values.",
        json_schema_extra={
            "unit": "insurance rules table",
            "source": f"{YANGJIANG} 五(三): 合理确定…不同级别…的支付标准",
        },
    )
    resident: SchemeRules | None = Field(
        None,
        description="Resident-scheme rules from start_year; keys not given keep insurance.resident's values.",
        json_schema_extra={
            "unit": "insurance rules table",
            "source": f"{YANGJIANG} 五(三): 合理确定…不同级别…的支付标准",
        },
    )
    cumulative_in_consortium: bool = param(
        False,
        "on/off",
        f"{YANGJIANG} 五(三): 在医联体内按规定转诊的病人按照连续的诊疗过程累计计算起付线",
        "An admission referred within the consortium pays only the part of its start-line not already paid "
        "along the episode's referral chain.",
    )
    unreferred_rate_cut: UnreferredRateCut = table_field(UnreferredRateCut)
    apply_rate_cut: bool = param(
        False,
        "on/off",
        f"{LIAOCHENG} 五(三): 差异化政策",
        "Apply `unreferred_rate_cut` to unreferred care at each level.",
    )
    down_referral_bonus: float = param(
        0.0,
        "yuan per down-referral",
        f"{YANGJIANG} 五(三): 上级医院下转病人由医保资金给予适当奖励",
        "Paid by the fund to a hospital for each patient it refers down.",
        ge=0,
        le=1e5,
    )
    no_start_line_after_down_referral: bool = param(
        False,
        "on/off",
        "assumption: a reward for down-referral that the patient sees (no second start-line after 下转); the "
        f"policy texts reward the hospital ({YANGJIANG})",
        "A patient referred down pays no start-line for the follow-up at their health centre.",
    )


class GlobalBudget(Lever):
    """Global budget to each consortium with surplus kept and overspend shared (总额付费, 结余留用、合理超支分担).

    [yangjiang-consortia-2017] 五(三): "在总额控制下,探索对纵向合作的医联体等分工协作模式实行医保总额付费…
    建立健全“结余留用、合理超支分担”"; 三(二): "因管理不善等原因造成的医保基金超支等亏损,应由医联体牵头单位、
    成员单位和医保基金共同分担"; [liaocheng-plan-2024] 六(三): "探索对紧密型医疗联合体实行总额付费,加强监督考核,
    实行结余留用、合理超支分担".
    """

    growth: float = param(
        0.05,
        "per year",
        "assumption: budgets grow with contributions, below the fee-for-service trend",
        "Budget = last year's fund spending on the consortium × (1 + growth).",
        ge=-0.5,
        le=1,
    )
    surplus_kept: float = param(
        1.0,
        "share",
        f"{YANGJIANG} 五(三): 结余留用",
        "Share of an under-spend the consortium keeps (the rest stays in the fund).",
        ge=0,
        le=1,
    )
    overspend_borne: float = param(
        0.5,
        "share",
        f"{YANGJIANG} 五(三): 合理超支分担 (三(二): shared by lead, members and fund); split: assumption",
        "Share of an overspend the consortium pays back (the fund bears the rest).",
        ge=0,
        le=1,
    )
    lead_share: float = param(
        0.6,
        "share",
        f"{YANGJIANG} 三(二): 医保基金的结余留用,探索实行按一定比例在牵头单位和成员单位之间进行分配; split: assumption",
        "Share of the consortium's surplus or loss taken by the lead hospital; members share the rest by revenue.",
        ge=0,
        le=1,
    )
    reinvest_share: float = param(
        0.3,
        "share",
        f"{GUIZHOU} 三(二): 推动医疗资源共享下沉; share: assumption",
        "Share of the lead's kept surplus invested in its primary members (resource sinking, 资源下沉).",
        ge=0,
        le=1,
    )
    per_head: bool = param(
        False,
        "on/off",
        "setting: off, budgets on claims at the consortium's members. On: the capitation-prepaid county consortium "
        "evaluated in [anhui-ichc-2019] (按人头总额预付), with [sanming-six-projects-2021] 主要任务(一): "
        "主要以县级行政区域为单位…做实区域健康管护体系…完善医保支付改革",
        "Budget per resident of the consortium (residents whose nearest primary facility is a member), out of "
        "which it pays its residents' care anywhere: last year's fund payments for them × (1 + growth).",
    )
    weigh_let_go: bool = param(
        True,
        "on/off",
        "setting: derived from the per-head budget's rule (its residents' stays anywhere are paid from it) and "
        "model quantities (this year's moderate stay bills by tier, fund shares, `care.declined_seek_bed`)",
        "Under a per-head budget, a consortium's members count what a moderate case they decline costs the "
        "budget if the patient is admitted at the next tier up (`payment.admission_margin`); off: they weigh "
        "only the claim of the stay they would give.",
    )
    specialty_share: float = param(
        0.3,
        "share",
        f"{LIAOCHENG} 二(三) 提升县级医院能力: 按照强核心专科、抓重点专病、补薄弱专业路径; share: assumption, as "
        "`reinvest_share`, sensitivity range 0–0.6",
        "Under a per-head budget, share of the lead's kept surplus invested in its own specialties (重点专科): "
        "its quality rises, as a member's does under resource sinking.",
        ge=0,
        le=1,
    )


class Capitation(Lever):
    """Capitation for family-doctor teams per signed resident (按人头).

    [liaocheng-plan-2024] 五(三): "探索将签约居民医保门诊统筹基金按人头支付给基层医疗卫生机构或家庭医生团队".
    """

    rate: float = param(
        120.0,
        "yuan per signed resident per year",
        f"{LIAOCHENG} 五(三): 签约居民医保门诊统筹基金按人头支付; rate: assumption (≈ the fund's primary-care "
        "outpatient spending per signed resident)",
        "Paid by the fund to the resident's primary care (split between station and health centre).",
        ge=0,
        le=1e5,
    )
    station_share: float = param(
        0.5,
        "share",
        "assumption: village doctors and health-centre teams share the family-doctor team's work",
        "Share of the capitation paid to the resident's village clinic or community station (the rest to the "
        "health centre).",
        ge=0,
        le=1,
    )


PerDiemRate = by_tier(
    "PerDiemRate",
    (0.0, 300.0, 700.0, 1_200.0),
    "yuan per bed-day",
    f"{YANGJIANG} 五(三): 慢性病住院患者实行按床日付费; rates: assumption (below the fee-for-service day price)",
    "Per-diem payment of a chronic patient's stay",
    ge=0,
    le=1e5,
)


class PerDiem(Lever):
    """Per-diem payment for chronic inpatients (按床日付费), [yangjiang-consortia-2017] 五(三)."""

    rate: PerDiemRate = table_field(PerDiemRate)


class Drg(Lever):
    """Per-case payment of admissions by group (DRG/DIP 按病种/按病组付费): tier × severity.

    [liaocheng-plan-2024] 六(三): "到2025年,按病种付费支付方式改革全面推广并日益完善". The group price is set when
    the lever starts, from the previous year's mean bill of the group's completed stays × `price_factor`; a
    stay cut short by a transfer up is billed item by item.
    """

    price_factor: float = param(
        1.0,
        "× last year's mean bill of the group",
        "assumption",
        "Group price relative to last year's mean bill.",
        ge=0.1,
        le=5,
    )


SigningTarget = by_tier(
    "SigningTarget",
    (0.60, 0.90),
    "share",
    f"{LIAOCHENG} 五(三): 全人群签约率达到60%以上、重点人群签约率保持在90%以上",
    "Signing rate reached by the target year",
    ge=0,
    le=1,
    keys=("all", "key_groups"),
)


class FamilyDoctor(Lever):
    """Family-doctor signing growing to targets, chronic-disease management, optional gatekeeping (家庭医生签约).

    [liaocheng-plan-2024] 五(三): "全人群签约率达到60%以上、重点人群签约率保持在90%以上,基本建立健康“守门人”制度";
    [yangjiang-consortia-2017] 三(四): "优先覆盖老年人…等重点人群…鼓励和引导居民在医联体内到基层首诊";
    [chongqing-prevention-2020] 二: "高血压糖尿病等主要慢性病发生率、住院率、并发症发生率增长趋势得到有效控制".
    """

    target: SigningTarget = table_field(SigningTarget)
    years_to_target: int = param(
        3,
        "years",
        f"{LIAOCHENG} 五(三): targets by 2025 (到2025年); years: assumption",
        "Years from start_year over which signing rises linearly to the target.",
        ge=1,
        le=50,
    )
    management_effect: float = param(
        0.2,
        "share of acute episodes avoided",
        f"{CHONGQING} 二: 住院率、并发症发生率…得到有效控制; size: fitted to the evidence table's fit-split "
        "family-doctor and gatekeeping effects, measured on chronic patients' visits as their sources are "
        "(hospital visits of chronic patients −15.2% [feng-2025-family-doctor], their health-centre share +4 "
        "points [zhang-2024-family-doctor]); 0.1, 0.15, 0.2 and 0.3 tried with the pull at 3, the pull at 1.5 "
        "with 0.15 and 0.3",
        "Acute episodes (exacerbations) avoided by a signed chronic patient under disease management (医防融合).",
        ge=0,
        le=1,
    )
    managed_follow_up_pull: float = param(
        3.0,
        "utility",
        f"{CHONGQING} 三(二)1: 专病医防服务; {LIAOCHENG} 五(三): 序贯转诊; size: fitted with `management_effect` "
        "to the evidence table's fit-split family-doctor and gatekeeping effects within the calibration's range "
        "0–3, at its edge (1.5 and 3 tried)",
        "Pull of a signed chronic patient's follow-ups to their own consortium's primary care (disease management).",
        ge=0,
        le=20,
    )
    gatekeeping: bool = param(
        False,
        "on/off",
        f"{LIAOCHENG} 五(三): 基本建立健康“守门人”制度",
        "Signed residents get full hospital reimbursement only when referred by primary care (首诊在基层).",
    )
    gatekeeping_rate_cut: float = param(
        1.0,
        "points of rate",
        "fitted to the evidence table's fit-split gatekeeping effects [xu-2020-gatekeeping] (hospital ambulatory "
        "spending −22.4%, primary-care patients +55.3%): 0.2, 0.5 and 1.0 tried, 1.0 best (the edge: unreferred "
        "hospital care of a signed resident is not reimbursed, the rule 首诊在基层 as a price)",
        "Rate cut on a signed resident's unreferred hospital care.",
        ge=0,
        le=1,
    )


PriceChange = by_tier(
    "PriceChange",
    (0.25, -0.15, -0.15, -0.20),
    "relative change",
    f"{SANMING} 总体目标: 医疗服务性收入、药品耗材收入和检查化验收入达到5∶3∶2; drug zero mark-up (药品零差率, "
    "≈15%: assumption), service prices up, test prices down; consumables as drugs (药品耗材 cut together: "
    "assumption); sizes: assumption",
    "Price change of each bill component",
    ge=-0.9,
    le=3,
    keys=COMPONENTS,
)


class Sanming(Lever):
    """The Sanming package (三明医改): prices toward 5:3:2, salary reform, the 9% revenue-growth cap.

    [sanming-six-projects-2021] 总体目标: "全市公立医院医药总收入增幅控制在9%以内,医疗服务性收入、药品耗材收入和
    检查化验收入达到5∶3∶2良性结构"; 主要任务(二): "发挥好公立医疗机构薪酬制度“牛鼻子”的关键作用…年薪" (salary reform).
    """

    price_change: PriceChange = table_field(PriceChange)
    salary_reform: float = param(
        0.7,
        "share of the volume incentive removed",
        f"{SANMING} 主要任务(二): 发挥好公立医疗机构薪酬制度“牛鼻子”的关键作用 (annual salaries, 年薪); "
        "size: assumption",
        "How much of the fee-for-service intensity drift the salary reform removes.",
        ge=0,
        le=1,
    )
    enforce_revenue_cap: bool = param(
        True,
        "on/off",
        f"{SANMING} 总体目标: 全市公立医院医药总收入增幅控制在9%以内",
        "Each year, a hospital whose medical revenue grew more than the cap cuts intensity to bring it back.",
    )
    revenue_cap: float = param(
        0.09,
        "per year",
        f"{SANMING} 总体目标: 医药总收入增幅控制在9%以内",
        "Cap on yearly growth of a hospital's medical revenue.",
        ge=0,
        le=1,
    )


class UnifiedFormulary(Lever):
    """A unified drug list within each consortium (统一药品目录, 用药衔接): primary members stock the lead's list.

    [liaocheng-plan-2024] 三(二): "统一药品耗材目录"; 五(一): "促进上下级医疗卫生机构用药衔接";
    [yangjiang-consortia-2017] 四(三): "不同级别医疗机构间高血压、糖尿病、肿瘤、重性精神病等慢性非传染性疾病的
    药品衔接工作,保障基层医疗卫生机构的药品供应".
    """

    share_of_lead_list: float = param(
        1.0,
        "share of the lead hospital's formulary breadth",
        f"{LIAOCHENG} 三(二): 统一药品耗材目录 (the whole list); below 1: assumption, sweep 0.7–1",
        "Formulary breadth of a consortium's primary members relative to their lead hospital's (none stocks less "
        "than before).",
        ge=0,
        le=1,
    )


class LongPrescription(Lever):
    """Long prescriptions (长处方) for stable chronic patients: fewer follow-up visits.

    [liaocheng-plan-2024] 五(三): "落实签约居民转诊、用药、医保等方面差异化政策"; a long-prescription policy letting
    patients registered with family doctors get up to three months' drugs cut hypertensive patients' yearly visits
    to community health centres by 2.47 [yu-2025-long-prescription].
    """

    visits_avoided: float = param(
        0.2,
        "share of follow-up visits",
        "assumption anchored on [yu-2025-long-prescription] (2.47 fewer visits a year to community health centres "
        "per eligible hypertensive patient); sweep 0.1–0.4",
        "Share of an eligible chronic patient's follow-up visits a long prescription makes unnecessary.",
        ge=0,
        le=1,
    )
    signed_only: bool = param(
        True,
        "on/off",
        f"{LIAOCHENG} 五(三): 签约居民…用药…差异化政策; [yu-2025-long-prescription]: patients registered with "
        "family doctors",
        "Only residents signed with a family doctor get long prescriptions.",
    )


class TestRecognition(Lever):
    """Mutual recognition of test results (检查检验结果互认): a referred patient's hospital care repeats fewer tests.

    [liaocheng-plan-2024] 五(二): "检查检验结果互认共享…三级公立医院和80%以上二级公立医院实现跨机构检查检验
    结果互认共享";
    [yangjiang-consortia-2017] 四(三): "实现医联体内服务供给一体化、医疗质量质控同质化和检查检验结果互认".
    """

    tests_avoided: float = param(
        0.3,
        "share of tests",
        "assumption: no estimate of repeated tests found; sweep 0.1–0.6",
        "Share of the test component of a referred patient's visit or stay (billed item by item) at a hospital "
        "(secondary or tertiary) that is no longer billed.",
        ge=0,
        le=1,
    )


class Teleconsultation(Lever):
    """Tele-consultation (远程会诊) from primary care to the lead hospital: some referrals up are avoided.

    [yangjiang-consortia-2017] 二(四): "鼓励二级、三级医疗机构向基层医疗卫生机构提供远程会诊…鼓励医联体(医院集团)
    和医共体的牵头单位建立远程会诊中心"; [liaocheng-plan-2024] 五(二): "拓展远程医疗服务…远程医疗服务覆盖中心村卫生室";
    [chongqing-prevention-2020] 三(二)4: "利用远程医疗系统,为基层医生提供远程技术支持".
    """

    resolved_share: float = param(
        0.15,
        "share of referrals up",
        "assumption: no estimate found; sweep 0.05–0.3",
        "Share of a consortium primary facility's outpatient referrals up (of episodes within `severity_gap` of "
        "its capability) resolved there with the lead hospital's remote help.",
        ge=0,
        le=1,
    )
    severity_gap: int = param(
        1,
        "severity levels",
        "assumption: remote advice bridges one level (a moderate case at a village clinic, a serious one at a "
        "health centre); sweep 1–3",
        "Highest severity above the facility's capability that a tele-consultation can resolve.",
        ge=1,
        le=3,
    )


class Expansion(Lever):
    """More beds (and outpatient capacity) at one hospital, or at every hospital of a tier, from `start_year`.

    Not a reform clause: the counterfactual of the siphon effect (虹吸效应), hospitals that grow
    drawing patients away from primary care, which `experiments/siphon.py` measures. The model adds
    the shares to the hospital's beds (whole beds, rounded) and outpatient capacity on top of the
    region's growth, every year from `start_year`.
    """

    tier: Literal["secondary", "tertiary"] = param(
        "tertiary", "tier", "setting", "Tier of the hospital(s) that expand."
    )
    facility: int = param(
        -1,
        "facility index (−1: none)",
        "setting: none, every hospital of the tier",
        "The one hospital that expands (its index among all facilities; it must be of `tier`).",
        ge=-1,
        le=1_000_000,
    )
    beds_share: float = param(
        0.2,
        "share of beds",
        "setting: the siphon experiment adds 20%",
        "Beds added, as a share of the hospital's beds.",
        ge=0,
        le=5,
    )
    outpatient_share: float = param(
        0.0,
        "share of outpatient capacity",
        "setting: beds only",
        "Outpatient capacity added, as a share of the hospital's.",
        ge=0,
        le=5,
    )


class ScaleCap(Lever):
    """Hospitals grow no faster than the plan: their own expansion is capped (控制公立医院规模).

    [liaocheng-plan-2024] 二(一): "科学配置公立医院特别是三级公立综合医院数量和规模,加强多院区建设管理,
    防止超规划、超功能或超定位盲目扩张".
    For a year from `start_year` on, a capped hospital may not raise its beds or clinic sessions
    above the region's planned growth by more than `max_growth` through its supply response
    (`ProviderResponse`); it may still cut them.
    """

    tertiary_only: bool = param(
        True,
        "on/off",
        f"{LIAOCHENG} 二(一): 特别是三级公立综合医院",
        "Only tertiary hospitals are capped (off: every secondary and tertiary hospital).",
    )
    max_growth: float = param(
        0.0,
        "log capacity per year",
        "setting: 0, no growth beyond the plan",
        "Largest yearly rise of a capped hospital's own scale of beds and clinic sessions.",
        ge=0,
        le=1,
    )


class ProviderResponse(StrictModel):
    """How facilities respond, once a year, to what their payment makes pay (bounded rationality).

    A facility keeps a share m of each extra yuan of services it bills (1 under fee-for-service;
    less under a global budget, capitation, per-diem or per-case payment) and a share v of an extra
    case's bill (1 but under a global budget). The margin m is that of the setting, visits or stays:
    a payment of stays leaves visits' margin at 1. Each year, in each setting: intensity ×
    exp(ln(1 + drift)·m·(1 − salary_reform) − restraint·(1 − m)); drug and test volumes ×
    exp(−mix_response·(1 − m)) (drugs also × exp(−mix_response) per 15% of mark-up removed, while consumables
    and tests × exp(mix_response) per 15% up to the volume that makes up markup_substitution of the drug
    revenue lost, `payment.substitution_ceiling`). In the
    wards: moderate-case admission propensity × exp(admission_response·(a − 1)), a = v but under a
    per-head budget (`payment.admission_margin`); willingness to refer
    down × exp(down_referral_response·(1 − v + bonus/mean stay bill)); length of stay ×
    exp(per_day_stay_response·d − per_case_stay_response·c), c and d the shares of the stays' bills
    paid per case and per day; the share of stays' bills outside the benefit list +
    cost_shift_response·(1 − v) (all bounded). Hospitals also grow their beds and clinic sessions
    with their use: × exp(bed_response·(occupancy − target_occupancy)) and
    × exp(clinic_response·(visits ÷ sessions − target_clinic_use)) for the next year. With
    `invest_from_surplus` their beds follow their surplus instead of the region's plan: × exp(surplus_response·
    max(margin, 0) + bed_response·(occupancy − target_occupancy)), margin the year's revenue less its drugs'
    cost and its running costs (set at the first year's close to leave `start_margin`, then per bed-day
    and clinic session at the price level and intensity), ÷ revenue. With `fill_beds`
    they work to fill their beds: clinic sessions × (beds ÷ beds a year before)^fill_clinic_elasticity
    for the next year (beds as a hospital's own scale × the expansion lever's), and, where beds ran
    emptier than the target, s = ln(target_occupancy ÷ occupancy) > 0, moderate-case admission
    propensity × exp(fill_admission_elasticity·v·s) (bounded as the ward response): induced
    admissions pay only as far as an extra case does. Paid per case, a hospital codes a share u of
    its stays one severity group higher than their true severity
    (upcoding): u + coding_creep·c ÷ g, at most max_upcoding_share, c measured at the true groups'
    prices and g the rise of its tier's case-mix index per unit of u (`payment.coding_gain`), so
    coding raises the case-mix index by coding_creep·c a year; coding changes what is paid and the
    case-mix index, not the care.
    """

    restraint: float = param(
        0.04,
        "log-intensity per year at m = 0",
        "assumption: budgets slow the growth of spending per admission [global-budget-rural-2017]",
        "How fast intensity falls when extra services no longer pay.",
        ge=0,
        le=1,
    )
    admission_response: float = param(
        0.3, "× (m − 1) per year", "assumption", "Change of moderate-case admission propensity.", ge=0, le=5
    )
    retention_response: float = param(
        0.5,
        "share of transfers up kept per unit of the share of an extra yuan borne",
        "assumption: no estimate of how much a per-head budget cuts a county hospital's transfers up was "
        "found ([anhui-ichc-2019] reports the outside-county share of inpatients, not transfers); "
        "sensitivity range 0–1",
        "Under a per-head budget a transfer up out of the consortium is paid from its budget, so its "
        "hospitals keep 1 − retention_response × surplus_kept of the transfers they would make.",
        ge=0,
        le=1,
    )
    down_referral_response: float = param(
        1.0, "× (1 − m) per year", "assumption", "Rise of the willingness to refer down.", ge=0, le=20
    )
    mix_response: float = param(
        0.08,
        "log-volume per year",
        "assumption: drug spending per admission fell sharply under Sanming's reform [sanming-evaluation-2017]",
        "How fast drug, consumables and test volumes fall when they stop paying (fixed payment, or drugs "
        "without mark-up — the rate applies in full at a 15% mark-up removed).",
        ge=0,
        le=2,
    )
    markup_substitution: float = param(
        0.5,
        "share of the drug revenue lost",
        "assumption within 0–0.82: in Beijing's pilot hospitals, after the zero mark-up of 2012, drug spending "
        "per admission fell 1,908.3 yuan by 2015 while the rest rose 1,557.8 (82%), led by consumables "
        "[zeng-beijing-zmdp-2019], the service fee that replaced the mark-up included; county hospitals made up "
        "their drug revenue with tests/consumables and services [fu-li-yip-2018]",
        "Share of the drug revenue a removed mark-up loses (price cut and fallen drug volume) that hospitals "
        "make up with more consumables and tests (substitution, `payment.substitution_ceiling`).",
        ge=0,
        le=1,
    )
    per_case_stay_response: float = param(
        0.055,
        "log length of stay per year, paid wholly per case",
        "Beijing's 2022 DRG payment shortened mean stays by 5.35% against hospitals not paid by DRG in its "
        "first year [beijing-drg-2022]: −ln(1 − 0.0535); sensitivity range 0–0.11 (no fall under Guangzhou's "
        "DIP [guangzhou-dip-los-2023]; 10–20% within two years under Medicare's prospective payment "
        "[medicare-pps-psychiatric-1989])",
        "How fast stays shorten where stays are paid per case (DRG/DIP): a day more in bed earns nothing.",
        ge=0,
        le=1,
    )
    per_day_stay_response: float = param(
        0.02,
        "log length of stay per year, paid wholly per day",
        "assumption: per-diem payment rewards the cheap last days of a stay [ellis-mcguire-1986]; no estimate "
        "for Chinese acute care was found, and Beijing psychiatric stays did not lengthen after a move from "
        "fee-for-service to per diem; sensitivity range 0–0.055 (at most the per-case response)",
        "How fast stays lengthen where stays are paid per day (per diem, 按床日): late days earn most.",
        ge=0,
        le=1,
    )
    cost_shift_response: float = param(
        0.23,
        "share of a stay's bill per year per unit of (1 − v)",
        "fitted: the evidence table's fit-split figure, out-of-pocket payment per admission +¥188.06 under a "
        "rural county's global budget against a control county [global-budget-rural-2017], is met in the "
        "evidence design's mean over the reform's years (+¥177 at 0.23; +¥242 at 0.3); sensitivity range "
        "0–0.6",
        "How fast a facility under a global budget moves its stays' bills to items outside the benefit list "
        "(目录外), which patients pay in full and the budget does not bear.",
        ge=0,
        le=1,
    )
    max_self_paid_share: float = param(
        0.1,
        "share of a stay's bill",
        "assumption: insurers audit spending outside the benefit list, so cost shifting levels off; no "
        "national ceiling was found; sensitivity range 0.05–0.3",
        "Largest share of a stay's bill a facility moves outside the benefit list.",
        ge=0,
        le=1,
    )
    bed_response: float = param(
        0.0,
        "log beds per year per unit of occupancy above the target",
        "assumption: off (0); fitted with the clinics' response to the 2019 visit shares [nhc-services-2019-10] "
        "it goes to 0, the lower edge of 0–3, but they barely depend on it (beds by hospital grade 2013–2019, "
        "its natural target, were not found); sensitivity range 0–2",
        "How fast a hospital adds beds when fuller than `target_occupancy` (and cuts them when emptier), "
        "relative to the region's growth.",
        ge=0,
        le=20,
    )
    clinic_response: float = param(
        0.28,
        "log clinic sessions per year per unit of use above the target",
        "fitted: the backtest region from 2013 to 2019 reaches the 2019 primary-care and tertiary shares of "
        "visits, 0.5217 and 0.2276 [nhc-services-2019-10] (0.526 and 0.228 at 0.277; "
        "experiments/calibrate_supply.toml); sensitivity range 0–0.6",
        "How fast a hospital adds outpatient clinic sessions when its visits exceed `target_clinic_use` of "
        "them (and cuts them when fewer), relative to the region's growth.",
        ge=0,
        le=20,
    )
    target_occupancy: float = param(
        0.85,
        "share of bed-days",
        "assumption: no national occupancy rule for new beds was found (provincial plans set their own); "
        "sensitivity range 0.75–0.95",
        "Bed occupancy at which a hospital's beds grow with the region's.",
        ge=0.3,
        le=1.2,
    )
    target_clinic_use: float = param(
        0.85,
        "visits ÷ clinic capacity",
        "assumption: as the bed target; sensitivity range 0.75–0.95",
        "Use of outpatient clinic sessions at which a hospital's clinics grow with the region's.",
        ge=0.3,
        le=1.2,
    )
    max_capacity_change: float = param(
        0.1,
        "log capacity per year",
        "assumption: a hospital adds or closes at most a tenth of its capacity a year; sensitivity range 0.05–0.2",
        "Largest yearly change of a hospital's beds or clinic sessions from its response (either way).",
        ge=0,
        le=1,
    )
    quality_per_investment: float = param(
        0.5,
        "quality per unit of investment ÷ member revenue",
        "assumption: resource sinking (资源下沉) raises primary care's quality",
        "Quality gained by primary members per yuan invested relative to their yearly revenue.",
        ge=0,
        le=10,
    )
    invest_from_surplus: bool = param(
        False,
        "on/off",
        "setting: off in the baseline, whose hospitals grow with the region's plan (the 2015 plan's bed standards "
        "[health-system-plan-2015] and the scale controls of [liaocheng-plan-2024] 二(一)); on in the 2013 "
        "backtest, when public hospitals expanded on their own revenue [zhou-2021-hospital-expansion]",
        "Hospitals' beds grow from their surplus and occupancy (`surplus_response`, `bed_response`) instead of the "
        "region's planned growth, which then applies to primary care alone.",
    )
    surplus_response: float = param(
        1.15,
        "log beds per year per unit of operating margin",
        "fitted: with no planned hospital growth, the backtest region's hospital beds per 1,000 grow 2013→2019 as "
        "the nation's beds per 1,000, × 6.30 / 4.55 [nhfpc-statistics-2013] [nhc-bulletin-2019], 3.40 → 4.71 "
        "(4.56 at 1, 4.84 at 1.3, 5.13 at 1.6; 500,000 residents; hospital beds by grade were not found); "
        "sensitivity range 0.8–1.6",
        "Share of a year's surplus (÷ revenue) a hospital turns into beds, as log beds: surplus invested ÷ the "
        "cost of a bed's capital relative to its yearly running cost.",
        ge=0,
        le=20,
    )
    start_margin: float = param(
        0.03,
        "share of revenue",
        "assumption: public hospitals ran small surpluses before the 2017 reform; no national margin by tier was "
        "found; sensitivity range 0–0.08",
        "Operating margin (surplus ÷ revenue) every facility has in the first year: it sets each facility's "
        "running costs per bed-day and per clinic session, which then stay (at the price level).",
        ge=-0.5,
        le=0.5,
    )
    fill_beds: bool = param(
        True,
        "on/off",
        "setting: on, part of the supply response; its sizes are cited below (off: beds enter choice only "
        "through the admission wait)",
        "Hospitals work to fill the beds they have (Roemer's law, a bed built is a bed filled): clinic sessions "
        "follow added beds, and a hospital with beds emptier than `target_occupancy` admits more moderate cases.",
    )
    fill_admission_elasticity: float = param(
        0.4,
        "log admission propensity per log of spare beds (target ÷ occupancy) per year",
        "[ginsburg-koretz-1983]: 10% more hospital beds per capita, about 4% more hospital use by Medicare "
        "enrollees (estimates range from none to one-to-one; Feldstein's elasticity of hospital days to beds "
        "0.53); Chinese public hospitals that expanded induced admissions [zhou-2021-hospital-expansion]; "
        "sensitivity range 0–1",
        "How far a hospital with spare beds raises its moderate cases' admission propensity in a year, at a "
        "volume margin of 1 (fee-for-service, per case, per day; scaled by the margin under a budget).",
        ge=0,
        le=5,
    )
    fill_clinic_elasticity: float = param(
        1.0,
        "log clinic sessions per log of beds added",
        "[moh-staffing-norms-1978]: a general hospital's staff are set per bed (1.3–1.7 staff a bed, doctors "
        "25% of its health workers), so its doctors, who also run its clinics, grow at least in proportion to "
        "its beds: 1; higher densities of hospitals and doctors go with less use of primary care "
        "[zhang-2020-patient-choice]; sensitivity range 0–1 (0: clinics grow with their use alone)",
        "How far a hospital's clinic sessions follow the beds it added (the next year, on top of the use response).",
        ge=0,
        le=5,
    )
    coding_creep: float = param(
        0.0165,
        "relative rise of the case-mix index per year, paid wholly per case",
        "half of the 3.3% rise of Medicare's case-mix index from 1987 to 1988 was coding [carter-drg-creep-1991] "
        "(a third of the 1986–87 rise [carter-drg-creep-1990]; about half of its change over 1980–86 "
        "[medicare-case-mix-1992], coding's part waning by 1986); sensitivity range 0–0.033 (at most the whole "
        "1987–88 rise, coding and real change together). Tai'an's DIP slopes [taian-dip-cmi-2024] do not "
        "separate coding from patients moving between tiers",
        "How fast a hospital paid per case (DRG/DIP) codes stays one severity group higher than their true "
        "severity (upcoding, DRG creep): each year coding raises its case-mix index by this × the share of its "
        "stays' bills paid per case, through a growing share of stays coded a group higher.",
        ge=0,
        le=1,
    )
    max_upcoding_share: float = param(
        0.3,
        "share of stays paid per case",
        "assumption: coding audits bound upcoding; the share of Medicare pneumonia admissions coded in the most "
        "generous group rose by 10 points at not-for-profit hospitals, 23 at for-profit ones and 37 at converting "
        "ones over 1989–96 [silverman-skinner-2004]; coding made a third of Medicare's case-mix index rise of "
        "1986–87 and half of 1987–88's [carter-drg-creep-1990] [carter-drg-creep-1991]; sensitivity range 0.1–0.37",
        "Largest share of its stays a hospital codes one group higher than their severity.",
        ge=0,
        le=1,
    )


class SendingDown(Lever):
    """Sending down (下沉): each consortium's lead hospital rotates a share of its doctors to its lower-tier members.

    [liaocheng-plan-2024] 四(四): "将指导基层、下沉服务作为县级以上公立医院基本职责…严格落实执业医师晋升副高级职称之前
    到基层服务政策…每年下沉医务人员规模保持在280人次以上"; [yangjiang-consortia-2017] 四: "通过建设发展医院集团主动将
    优秀医务人员和优质医疗资源下沉到基层医疗卫生机构". Acts through `workforce` (it needs `workforce.enabled`).
    """

    rotated_share: float = param(
        0.05,
        "share of the lead hospital's doctor-time",
        f"{LIAOCHENG} 四(四): 每年下沉医务人员规模保持在280人次以上 (a count, not a share); size: assumption, "
        "range 0.01–0.15",
        "Share of a lead hospital's doctors working at its consortium's lower-tier members during the year.",
        ge=0,
        le=0.5,
    )


class PrimaryPay(Lever):
    """两个允许 at primary care: primary doctors' pay raised toward county hospitals' for the same grade.

    [liaocheng-plan-2024] 六(四): "落实“两个允许”要求…合理核定基层医疗卫生机构绩效工资总量和水平,逐步达到县级医院同职级
    人员水平". Narrows the pay gap that drives migration up the tiers (`workforce`; it needs `workforce.enabled`).
    """

    gap_closed: float = param(
        1.0,
        "share of the hospital–primary pay gap",
        f"{LIAOCHENG} 六(四): 逐步达到县级医院同职级人员水平 (parity: 1); below 1: assumption, sweep 0.3–1",
        "Share of the pay gap between hospital and primary doctors closed while the lever is in force.",
        ge=0,
        le=1,
    )


BedStandardPer1000 = by_tier(
    "BedStandardPer1000",
    (1.2, 1.8, 1.35),
    "beds per 1,000 residents",
    "[health-system-plan-2015] (国办发〔2015〕14号) 2020 allocation by level, as attributed and not found in a "
    "reproduction (its total, 6 per 1,000, and at least 1.5 at non-public hospitals were): 基层医疗卫生机构 1.2, "
    "县办医院 1.8, 市办 0.9 + 省办及以上 0.45 for the tertiary tier; public hospitals' levels, while the region's "
    "tiers hold every bed: assumption, ranges 0.9–1.5, 1.5–3, 1–3",
    "Planning standard of inpatient beds per 1,000 residents",
    ge=0,
    le=50,
    keys=("health_centre", "secondary", "tertiary"),
)


class BedStandard(Lever):
    """Beds per 1,000 residents by tier: a ceiling on hospitals, a floor built up at primary care (床位配置标准).

    [health-system-plan-2015] sets beds per 1,000 residents by level of institution for 2020;
    [liaocheng-plan-2024] 二(一): "强化区域卫生规划和医疗机构设置规划等规范约束作用…防止超规划、超功能或超定位盲目扩张".
    From `start_year`, hospitals of a tier at or above its standard get no growth, neither the plan's nor
    their own supply response's (they may still cut beds), until they fall back under it, and a tier under
    it grows at most up to it; health centres under theirs are built up toward it at `build_up_share` of
    the gap a year.
    """

    standard: BedStandardPer1000 = table_field(BedStandardPer1000)
    build_up_share: float = param(
        0.2,
        "share of the gap a year",
        "assumption: the plan gave five years (2015–2020) to reach its standards; range 0.1–1",
        "Share of the gap between health centres' planned beds and their standard added in a year.",
        ge=0,
        le=1,
    )


class PrimaryBedsFirst(Lever):
    """New beds only at primary care: the region's planned growth of hospital beds goes to health centres.

    [liaocheng-plan-2024] 二(一): "精准增加床位等医疗资源配置,增量资源重点保障基层或者区域重点需求".
    From `start_year`, hospitals keep their beds (the plan adds none; their own supply response, which
    `scale_cap` caps, still acts) and the beds the plan would have added to them that year are shared among
    the health centres in proportion to their beds.
    """


class Upgrade(Lever):
    """Secondary hospitals that reach a tertiary hospital's size become tertiary (医院等级评审, 级别等次动态调整).

    [liaocheng-plan-2024] 二(一): "建立健全公立医院级别等次动态调整机制". From `start_year`, at a year's start
    (after its beds have changed) a secondary hospital with at least `min_beds` becomes tertiary: its
    prices, insurance rates, transfer probability, capability and quality become its new tier's (quality
    and capability are kept where higher), and referral routes follow (`CareModel._init_cells`). The
    grading standard's other criteria (departments, equipment, teaching, research) are not modelled.
    """

    min_beds: float = param(
        500.0,
        "beds at full scale",
        "[moh-hospital-grading-1989]: a tertiary hospital has more than 500 beds, a secondary one 100–500 "
        "(scaled by the run's scale); sensitivity range 400–800",
        "Beds at which a secondary hospital is graded tertiary.",
        ge=1,
        le=100_000,
    )


class CountySpecialties(Lever):
    """County hospitals that lead a county medical community build specialties for the gravest cases (重点专科).

    [liaocheng-plan-2024] 二(三): "提升县级医院能力…按照强核心专科、抓重点专病、补薄弱专业路径,
    重点提升急危重症患者抢救能力"; the target: [liaocheng-plan-2024] 二(三) "县域内患者就诊率力争在90%以上".
    From `start_year` these hospitals admit and treat every severity up to `severity`, so such cases
    need not leave the county, and patients see them as of `quality` at least.
    """

    severity: int = param(
        3,
        "highest severity (0 minor … 3 complex)",
        f"{LIAOCHENG} 二(三): 重点提升急危重症患者抢救能力 (complex cases, as tertiary hospitals)",
        "Highest severity the county lead hospitals admit and treat as outpatients.",
        ge=2,
        le=3,
    )
    quality: float = param(
        0.85,
        "0–1 score",
        "assumption: between a county hospital's 0.70 and a tertiary hospital's 1.0; sensitivity range 0.7–1.0",
        "Perceived quality the county lead hospitals reach (kept if already higher).",
        ge=0,
        le=1,
    )


class Assessment(Lever):
    """Consortia assessed on tiered care, with money attached (医联体绩效考核, 考核结果与医保支付挂钩).

    [liaocheng-plan-2024] 六(五): "增加分级诊疗相关指标的权重…将绩效考核结果作为…医保政策调整…的重要依据";
    [yangjiang-consortia-2017] 五(五): "建立与医联体相适应的绩效考核机制". From `start_year` the fund holds
    back `withheld_share` of each year's claims at a consortium's members (a quality deposit) and pays
    it at the year's close in proportion to the consortium's score: the primary-care share of the visits
    its members gave, over `target_primary_share` (at most 1). What a visit moved down to primary care
    is worth in score money then counts, for its hospitals, as a bonus on each patient referred down.
    """

    withheld_share: float = param(
        0.05,
        "share of fund claims",
        "assumption: the texts tie insurance payment to the assessment without a size; sensitivity range 0.02–0.1",
        "Share of the fund's claims at a consortium's members held back and paid in proportion to its score.",
        ge=0,
        le=0.5,
    )
    target_primary_share: float = param(
        0.65,
        "share of visits",
        f"{YANGJIANG} 一: 基层医疗卫生机构诊疗量占总诊疗量比例达到65%以上",
        "Primary-care share of a consortium's visits at which its score is full.",
        gt=0,
        le=1,
    )


class Levers(StrictModel):
    """All policy levers (each off by default)."""

    reserved_beds: ReservedBeds = Field(default_factory=ReservedBeds)
    start_line: StartLine = Field(default_factory=StartLine)
    global_budget: GlobalBudget = Field(default_factory=GlobalBudget)
    capitation: Capitation = Field(default_factory=Capitation)
    per_diem: PerDiem = Field(default_factory=PerDiem)
    drg: Drg = Field(default_factory=Drg)
    family_doctor: FamilyDoctor = Field(default_factory=FamilyDoctor)
    sanming: Sanming = Field(default_factory=Sanming)
    unified_formulary: UnifiedFormulary = Field(default_factory=UnifiedFormulary)
    long_prescription: LongPrescription = Field(default_factory=LongPrescription)
    test_recognition: TestRecognition = Field(default_factory=TestRecognition)
    teleconsultation: Teleconsultation = Field(default_factory=Teleconsultation)
    expansion: Expansion = Field(default_factory=Expansion)
    scale_cap: ScaleCap = Field(default_factory=ScaleCap)
    response: ProviderResponse = Field(default_factory=ProviderResponse)
    sending_down: SendingDown = Field(default_factory=SendingDown)
    primary_pay: PrimaryPay = Field(default_factory=PrimaryPay)
    bed_standard: BedStandard = Field(default_factory=BedStandard)
    primary_beds_first: PrimaryBedsFirst = Field(default_factory=PrimaryBedsFirst)
    county_specialties: CountySpecialties = Field(default_factory=CountySpecialties)
    assessment: Assessment = Field(default_factory=Assessment)
    upgrade: Upgrade = Field(default_factory=Upgrade)


def merge_scheme_rules(data: dict[str, Any]) -> dict[str, Any]:
    """Scenario data with `levers.start_line.<scheme>` completed from `insurance.<scheme>`.

    A start-line lever names only the values it changes; the rest are the scenario's own rules.
    """
    levers = data.get("levers")
    start_line = levers.get("start_line") if isinstance(levers, dict) else None
    if not isinstance(start_line, dict):
        return data

    try:
        base_rules = InsuranceParams.model_validate(data.get("insurance", {}) or {}).model_dump()
    except ValidationError:
        # Its errors would be located from `insurance`, not the scenario ("employee.x", not
        # "insurance.employee.x"): leave the lever's tables as given, and the scenario's own
        # validation names the bad insurance value in full.
        return data
    for scheme in ("employee", "resident"):
        change = start_line.get(scheme)
        if isinstance(change, dict):
            start_line[scheme] = deep_merge(base_rules[scheme], change)
    return data


@dataclass
class Policy:
    """The levers in force in one simulated year, as plain values the model's steps read."""

    year: int
    reserved_share: float
    reserved_release_days: int
    reserved_signed_only: bool
    priority: bool
    cumulative_start_line: bool
    rate_cut: np.ndarray
    down_referral_bonus: float
    no_start_line_after_down_referral: bool
    global_budget: GlobalBudget | None
    capitation_rate: float
    per_diem_rate: np.ndarray | None
    drg_factor: float | None
    management_effect: float
    managed_follow_up_pull: float
    gatekeeping_cut: float
    price_multiplier: np.ndarray
    markup_removed: float
    salary_reform: float
    revenue_cap: float | None
    schemes: dict[str, SchemeRules]
    capitation_station_share: float
    signing_progress: float
    signing_targets: tuple[float, float]
    formulary_share_of_lead: float | None
    prescription_visits_avoided: float
    prescription_signed_only: bool
    tests_avoided: float
    consult_share: float
    consult_severity_gap: int
    response: ProviderResponse
    sending_down_share: float
    primary_pay_gap_closed: float
    bed_ceiling: np.ndarray
    bed_floor: np.ndarray
    bed_build_up: float
    primary_beds_first: bool
    county_specialties: CountySpecialties | None
    assessment: Assessment | None
    upgrade: Upgrade | None

    @classmethod
    def for_year(cls, levers: Levers, year: int) -> Policy:
        """What is in force in `year`."""
        rb, sl, fd, sm = levers.reserved_beds, levers.start_line, levers.family_doctor, levers.sanming
        uf, lp, tc = levers.unified_formulary, levers.long_prescription, levers.teleconsultation
        return cls(
            year=year,
            reserved_share=rb.share if rb.active(year) else 0.0,
            reserved_release_days=rb.release_after_days,
            reserved_signed_only=rb.signed_only,
            priority=rb.active(year) and rb.priority,
            cumulative_start_line=sl.active(year) and sl.cumulative_in_consortium,
            rate_cut=sl.unreferred_rate_cut.as_array() if sl.active(year) and sl.apply_rate_cut else np.zeros(3),
            down_referral_bonus=sl.down_referral_bonus if sl.active(year) else 0.0,
            no_start_line_after_down_referral=sl.active(year) and sl.no_start_line_after_down_referral,
            global_budget=levers.global_budget if levers.global_budget.active(year) else None,
            capitation_rate=levers.capitation.rate if levers.capitation.active(year) else 0.0,
            per_diem_rate=levers.per_diem.rate.as_array() if levers.per_diem.active(year) else None,
            drg_factor=levers.drg.price_factor if levers.drg.active(year) else None,
            management_effect=fd.management_effect if fd.active(year) else 0.0,
            managed_follow_up_pull=fd.managed_follow_up_pull if fd.active(year) else 0.0,
            gatekeeping_cut=fd.gatekeeping_rate_cut if fd.active(year) and fd.gatekeeping else 0.0,
            price_multiplier=1.0 + sm.price_change.as_array() if sm.active(year) else np.ones(len(COMPONENTS)),
            markup_removed=max(0.0, -sm.price_change.drugs) if sm.active(year) else 0.0,
            salary_reform=sm.salary_reform if sm.active(year) else 0.0,
            revenue_cap=sm.revenue_cap if sm.active(year) and sm.enforce_revenue_cap else None,
            schemes={
                scheme: rules
                for scheme in ("employee", "resident")
                if sl.active(year) and (rules := getattr(sl, scheme)) is not None
            },
            capitation_station_share=levers.capitation.station_share if levers.capitation.active(year) else 0.0,
            signing_progress=min(1.0, (year - fd.start_year + 1) / fd.years_to_target) if fd.active(year) else 0.0,
            signing_targets=(fd.target.all, fd.target.key_groups) if fd.active(year) else (0.0, 0.0),
            formulary_share_of_lead=uf.share_of_lead_list if uf.active(year) else None,
            prescription_visits_avoided=lp.visits_avoided if lp.active(year) else 0.0,
            prescription_signed_only=lp.signed_only,
            tests_avoided=levers.test_recognition.tests_avoided if levers.test_recognition.active(year) else 0.0,
            consult_share=tc.resolved_share if tc.active(year) else 0.0,
            consult_severity_gap=tc.severity_gap,
            response=levers.response,
            sending_down_share=levers.sending_down.rotated_share if levers.sending_down.active(year) else 0.0,
            primary_pay_gap_closed=levers.primary_pay.gap_closed if levers.primary_pay.active(year) else 0.0,
            bed_ceiling=_bed_standards(levers.bed_standard, year, ("secondary", "tertiary"), np.inf),
            bed_floor=_bed_standards(levers.bed_standard, year, ("health_centre",), 0.0),
            bed_build_up=levers.bed_standard.build_up_share if levers.bed_standard.active(year) else 0.0,
            primary_beds_first=levers.primary_beds_first.active(year),
            county_specialties=levers.county_specialties if levers.county_specialties.active(year) else None,
            assessment=levers.assessment if levers.assessment.active(year) else None,
            upgrade=levers.upgrade if levers.upgrade.active(year) else None,
        )

    def insurance(self, rules: InsuranceParams) -> InsuranceParams:
        """The insurance rules in force: the scenario's, with the start-line lever's schemes where it gives them."""
        return rules.model_copy(update=self.schemes) if self.schemes else rules

    def signing_rates(self, baseline_all: float, baseline_key: float) -> tuple[float, float]:
        """(all, key groups) signing rates aimed at this year: a linear ramp from the baseline to the targets."""
        target_all, target_key = self.signing_targets
        return (
            baseline_all + self.signing_progress * max(0.0, target_all - baseline_all),
            baseline_key + self.signing_progress * max(0.0, target_key - baseline_key),
        )


def _bed_standards(lever: BedStandard, year: int, tiers: tuple[str, ...], none: float) -> np.ndarray:
    """(4,) beds per 1,000 residents by tier: the standard of `tiers` while the lever is active, else `none`."""
    out = np.full(len(TIERS), none)
    if lever.active(year):
        for tier in tiers:
            out[TIERS.index(tier)] = getattr(lever.standard, tier)
    return out
