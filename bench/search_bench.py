#!/usr/bin/env python3
"""The search benchmark of issue 4 ("Performance, measured by bench/search"). Run it as bench/search.

It starts its own Meilisearch on a free loopback port (unless MEILI_URL is set), builds a throwaway
app on SQLite, generates a corpus of Chinese entries in the exact shape of
exchange.search.documents.build_document (the index is what is measured: the entries are not
written to the database), and measures against the targets of the issue:

  indexing     the project's indexer (MeiliBackend.rebuild) against the raw client;
  queries      200 varied queries through the app's GET /api/v1/search (a real HTTP server on
               loopback) against the same queries sent with the raw client;
  approval     the delay from an approval to the entry being searchable, with the worker running;
  embedded     the SQLite FTS5 backend on a smaller corpus, through services.search.
"""
from __future__ import annotations

import argparse
import inspect
import json
import logging
import math
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project's packages (exchange, config, tests) import from its root

import meilisearch  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask import Flask  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from exchange import create_app  # noqa: E402
from exchange.accounts.models import User, Visitor  # noqa: E402
from exchange.catalog.models import ENTRY_MODELS, CooperationMode, Entry, EntryKind, EntryStatus, Maturity  # noqa: E402
from exchange.catalog.services import change_status  # noqa: E402
from exchange.cli import worker_command  # noqa: E402
from exchange.extensions import db  # noqa: E402
from exchange.models import metadata as schema  # noqa: E402
from exchange.notifications.outbox import drain  # noqa: E402
from exchange.notifications.services import run_worker, start_background_worker  # noqa: E402
from exchange.orgs.models import Organization  # noqa: E402
from exchange.search import services, text  # noqa: E402
from exchange.search.documents import FACETS, PUBLIC, SORTS, SearchQuery, build_document  # noqa: E402
from exchange.search.embedded import EmbeddedBackend  # noqa: E402
from exchange.search.meili import RETRIEVED, MeiliBackend, filter_expression, settings  # noqa: E402
from exchange.taxonomy.models import District, TechnologyField  # noqa: E402
from exchange.taxonomy.services import load_reference_data  # noqa: E402
from tests import factories  # noqa: E402

# Targets of issue 4 on this machine class.
TARGET_INDEXING_RATIO = 0.70
TARGET_APP_OVER_RAW = 1.5
TARGET_APPROVAL_P95_SECONDS = 1.0
TARGET_EMBEDDED_P50_SECONDS = 0.030

BATCH_SIZE = 1000
OTHER_LOAD_WARNING = 0.10  # share of the CPU used by other processes above which a phase's figures are flagged
QUIET_WINDOW_SECONDS = 5.0  # how long the machine must be that quiet before a phase, with --wait-for-quiet
TASK_TIMEOUT_MS = 30 * 60 * 1000
QUERY_COUNT = 200
POLL_SECONDS = 0.01
APPROVAL_TIMEOUT_SECONDS = 30.0
ID_BASE = 1_000_000  # corpus ids stay clear of the entries that the approval phase creates in the database

# The corpus: technical phrases per sub-field of seed/fields.json ---------------------------------------

TERMS: dict[str, list[str]] = {
    "ngit.ic-design": ["集成电路", "芯片设计", "模拟芯片", "车规级芯片", "射频芯片"],
    "ngit.5g": ["5G基站", "毫米波天线", "光模块", "小基站", "通信模组"],
    "ngit.ai": ["人工智能", "深度学习", "计算机视觉", "自然语言处理", "大模型", "机器学习"],
    "ngit.big-data": ["大数据平台", "数据中台", "数据治理", "数据分析"],
    "ngit.cloud": ["云计算", "边缘计算", "容器平台", "分布式存储"],
    "ngit.cyber-security": ["网络安全", "数据加密", "入侵检测", "零信任架构"],
    "ngit.quantum": ["量子通信", "量子计算", "量子密钥分发", "量子精密测量"],
    "biomed.innovative-drugs": ["创新药物", "单克隆抗体", "靶向药物", "细胞治疗", "药物递送"],
    "biomed.medical-devices": ["医疗器械", "体外诊断", "医学影像", "手术机器人", "可穿戴监测设备"],
    "biomed.vaccines": ["疫苗", "mRNA疫苗", "疫苗佐剂", "重组蛋白疫苗"],
    "biomed.tcm": ["中医药", "中药配方颗粒", "中药材种植", "经典名方"],
    "energy.solar": ["光伏组件", "钙钛矿电池", "异质结电池", "光伏逆变器"],
    "energy.wind": ["风力发电机组", "海上风电", "风电叶片", "变桨系统"],
    "energy.nuclear": ["核电站", "小型模块化反应堆", "核级阀门", "乏燃料处理"],
    "energy.storage": ["储能系统", "液流电池", "压缩空气储能", "电解水制氢", "虚拟电厂"],
    "nev.power-battery": ["动力电池", "锂电池", "固态锂电池", "固态电池", "硫化物电解质", "正极材料", "电池管理系统",
                          "热失控预警"],
    "nev.drive-motor": ["驱动电机", "永磁同步电机", "电机控制器", "扁线电机"],
    "nev.fuel-cell": ["燃料电池", "氢燃料电池", "膜电极", "双极板", "氢能重卡"],
    "nev.connected-driving": ["自动驾驶", "激光雷达", "智能网联汽车", "车路协同", "毫米波雷达"],
    "eco.air": ["大气污染防治", "脱硫脱硝", "挥发性有机物治理", "除尘设备"],
    "eco.water": ["污水处理", "膜生物反应器", "水污染治理", "海水淡化"],
    "eco.soil-remediation": ["土壤修复", "重金属污染", "污染场地调查"],
    "eco.solid-waste": ["固体废物处理", "垃圾焚烧", "建筑垃圾资源化", "危险废物处置"],
    "materials.graphene": ["石墨烯", "石墨烯导热膜", "碳纤维", "碳纳米管"],
    "materials.wide-bandgap": ["碳化硅", "氮化镓", "第三代半导体", "功率器件", "外延材料"],
    "materials.3d-printing": ["3D打印材料", "金属粉末", "钛合金", "高温合金"],
    "materials.nano": ["纳米材料", "纳米涂层", "复合材料", "特种陶瓷"],
    "smart-mfg.robots": ["工业机器人", "协作机器人", "机器人", "精密减速器", "伺服系统"],
    "smart-mfg.cnc": ["数控机床", "五轴联动", "激光加工", "精密主轴"],
    "smart-mfg.additive": ["增材制造", "激光熔覆", "金属3D打印"],
    "smart-mfg.industrial-software": ["工业软件", "数字孪生", "机器视觉", "智能工厂", "工业互联网", "智能制造"],
    "rail.rolling-stock": ["轨道车辆", "高速列车", "转向架", "磁悬浮"],
    "rail.signalling": ["列车控制系统", "通信信号", "城市轨道交通"],
    "rail.traction-power": ["牵引供电", "牵引变流器", "再生制动能量回收"],
    "rail.maintenance": ["智能运维", "钢轨探伤", "故障诊断"],
    "agri.seeds": ["种业", "育种技术", "基因编辑", "分子标记"],
    "agri.bio-agri": ["生物农药", "生物肥料", "微生物菌剂"],
    "agri.equipment": ["农业装备", "植保无人机", "智慧农业", "节水灌溉"],
    "culture-design.industrial-design": ["工业设计", "产品外观设计", "人机交互"],
    "culture-design.digital-creative": ["数字创意", "动漫游戏", "数字人"],
    "culture-design.heritage": ["文化遗产数字化", "三维扫描", "古建筑保护"],
    "culture-design.immersive": ["虚拟现实", "增强现实", "沉浸式体验"],
    "services.testing": ["检验检测", "计量校准", "可靠性试验"],
    "services.tech-transfer": ["技术转移", "成果转化", "技术经纪"],
    "services.ip": ["知识产权", "专利运营", "专利导航"],
    "services.consulting": ["科技咨询", "战略规划", "标准制定"],
    "services.incubation": ["创业孵化", "科技金融", "众创空间"],
}
ABBREVIATIONS: dict[str, list[str]] = {
    "ngit": ["5G", "AI", "GPU", "FPGA", "SoC", "IoT"], "biomed": ["mRNA", "CAR-T", "PCR", "CT", "AI"],
    "energy": ["PV", "PEM", "BMS"], "nev": ["BMS", "SOC", "SiC", "MCU", "V2X"], "eco": ["VOCs", "MBR", "SCR"],
    "materials": ["SiC", "GaN", "CVD", "MOCVD"], "smart-mfg": ["CNC", "PLC", "MES", "AGV", "AI"],
    "rail": ["CBTC", "ATO", "PHM"], "agri": ["GIS", "IoT", "AI"], "culture-design": ["VR", "AR", "AIGC"],
    "services": ["CNAS", "CMA", "IP"],
}
MODIFIERS = ["高性能", "低成本", "新型", "高效", "智能", "大功率", "高精度", "柔性", "车规级", "国产化", "绿色",
             "模块化"]
CITIES = {"BJ": ["北京"], "TJ": ["天津"], "HE": ["石家庄", "保定", "唐山", "廊坊", "雄安", "沧州", "邯郸"]}
REGION_NAMES = {"BJ": "北京", "TJ": "天津", "HE": "河北"}
REGION_WEIGHTS = {"BJ": 45, "TJ": 25, "HE": 30}
KIND_WEIGHTS = {"achievement": 40, "need": 20, "expert": 15, "talent": 15, "project": 10}
STATUS_WEIGHTS = {EntryStatus.APPROVED: 92, EntryStatus.SUBMITTED: 4, EntryStatus.DRAFT: 4}
ORG_BRANDS = ["中科", "华创", "智芯", "清源", "星河", "恒通", "瑞能", "博远", "天工", "汇智", "海泰", "启明", "京北",
              "津海", "冀东"]
ORG_SUFFIXES = ["科技有限公司", "技术研究院", "大学", "新能源有限公司", "智能装备有限公司", "生物科技有限公司",
                "研究所", "工程技术中心"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN_NAMES = ["立新", "静", "建国", "晓东", "海燕", "志强", "丽娟", "文博", "思远", "雪梅", "子涵", "国华", "明",
               "浩然", "玉兰"]
RANKS = ["研究员", "教授", "高级工程师", "副研究员", "副教授", "教授级高工"]
MODE_NAMES = {"transfer": "技术转让", "license": "许可使用", "equity": "作价入股", "joint_development": "联合开发",
              "technical_service": "技术服务"}
TITLE_PATTERNS = {
    "achievement": ["{mod}{a}制备技术", "{mod}{a}关键技术", "{a}制备方法", "{mod}{a}成套装备", "{a}工艺及装置",
                    "{a}检测系统", "{mod}{a}集成应用"],
    "need": ["{a}技术需求", "{a}技术攻关需求", "{a}合作研发需求", "{a}解决方案征集"],
    "expert": ["{name}"],
    "talent": ["{a}研发工程师", "{a}算法工程师", "{a}技术团队", "{a}项目经理", "{a}首席科学家"],
    "project": ["京津冀{a}示范应用", "京津冀{a}协同创新项目", "{a}联合攻关", "{a}产业化项目"],
}
LEADS = {
    "achievement": "一种基于{abbr}的{mod}{a}技术，解决了{b}长期依赖进口的问题。",
    "need": "我单位在{a}方面存在技术瓶颈，现面向京津冀征集{b}解决方案，拟投入研发经费{m}00万元。",
    "expert": "{name}，{rank}，长期从事{a}与{b}研究，熟悉{abbr}相关技术。",
    "talent": "具有{m}年{a}研发经验，熟悉{b}与{abbr}开发，期望在{region}发展。",
    "project": "本项目由{org}牵头，联合三地{m}家单位共同实施，聚焦{a}与{b}。",
}
SENTENCES = [
    "本项目围绕{a}开展关键技术攻关，突破了{b}的核心工艺难题。",
    "采用{abbr}与{a}相结合的技术路线，主要性能指标较现有方案提升{n}%。",
    "成果已在{city}的{m}家企业完成中试验证，具备规模化生产条件。",
    "团队拥有发明专利{m}项，形成了覆盖{a}、{b}的完整知识产权布局。",
    "可广泛应用于{a}、{c}等领域，市场前景广阔。",
    "与传统{b}相比，成本降低{n}%，能耗降低{p}%，使用寿命延长{m}倍。",
    "依托京津冀协同创新机制，联合{city}高校院所共建{a}联合实验室。",
    "拟采用{mode}等合作方式，推动{a}在{region}落地转化。",
    "关键指标经第三方检测机构检测，{abbr}相关参数达到国际先进水平。",
    "项目负责人长期从事{b}研究，先后承担国家重点研发计划课题{m}项。",
    "已制定企业标准{m}项，参与编制{c}行业标准，产品通过{abbr}认证。",
    "核心部件实现国产化替代，{a}良品率达到{q}%以上。",
    "下一步将建设年产{m}万套的{b}生产线，带动上下游配套企业集聚发展。",
    "目前已与{org}签订合作意向，计划在{region}开展{c}示范应用。",
]
SUMMARY_LENGTH = 290  # characters; one more sentence brings it to about 300

# The queries: what users type ------------------------------------------------------------------------

PARTS = ["电池", "导体", "合金", "电机", "雷达", "芯片", "疫苗", "储能", "治疗", "光伏", "孪生", "无人机", "减速器",
         "电解质", "诊断", "反应堆", "器件", "列车", "涂层", "农药"]
TRADITIONAL = ["鋰電池", "固態電池", "機器人", "工業機器人", "燃料電池", "自動駕駛", "激光雷達", "數控機床", "醫療器械",
               "雲計算", "網絡安全", "量子計算", "碳纖維", "電池管理系統", "動力電池", "儲能系統", "污水處理",
               "城市軌道交通", "智慧農業", "數字孿生"]
HOMOPHONES = [("固太电池", "固态电池"), ("自动驾使", "自动驾驶"), ("激光雷打", "激光雷达"), ("只能制造", "智能制造"),
              ("石墨稀", "石墨烯"), ("机器仁", "机器人"), ("燃料店池", "燃料电池"), ("数空机床", "数控机床"),
              ("人工只能", "人工智能"), ("云技算", "云计算"), ("储能系通", "储能系统"), ("碳纤唯", "碳纤维"),
              ("污水处里", "污水处理"), ("钛和金", "钛合金"), ("智慧农叶", "智慧农业"), ("工业软建", "工业软件"),
              ("数字孪声", "数字孪生"), ("光伏组建", "光伏组件"), ("基因编集", "基因编辑"), ("动力电吃", "动力电池")]
PINYIN = [("gutaidianchi", "固态电池"), ("zhinengzhizao", "智能制造"), ("jiqiren", "机器人"), ("shimoxi", "石墨烯"),
          ("zidongjiashi", "自动驾驶"), ("jiguangleida", "激光雷达"), ("rengongzhineng", "人工智能"),
          ("ranliaodianchi", "燃料电池"), ("shukongjichuang", "数控机床"), ("yunjisuan", "云计算"),
          ("chunengxitong", "储能系统"), ("tanxianwei", "碳纤维"), ("wushuichuli", "污水处理"), ("taihejin", "钛合金"),
          ("zhihuinongye", "智慧农业"), ("gongyeruanjian", "工业软件"), ("shuziluansheng", "数字孪生"),
          ("guangfuzujian", "光伏组件"), ("jiyinbianji", "基因编辑"), ("donglidianchi", "动力电池")]
MIXED = [("5G 基站", "5G基站"), ("SiC 功率器件", "功率器件"), ("AI 医学影像", "医学影像"),
         ("BMS 热失控预警", "热失控预警"), ("GaN 外延材料", "外延材料"), ("mRNA 疫苗", "mRNA疫苗"),
         ("CAR-T 细胞治疗", "细胞治疗"), ("FPGA 芯片设计", "芯片设计"), ("IoT 智慧农业", "智慧农业"),
         ("CNC 数控机床", "数控机床"), ("AGV 智能工厂", "智能工厂"), ("PLC 工业软件", "工业软件"),
         ("CBTC 列车控制系统", "列车控制系统"), ("PEM 电解水制氢", "电解水制氢"), ("PV 光伏组件", "光伏组件"),
         ("GPU 深度学习", "深度学习"), ("MES 数字孪生", "数字孪生"), ("SOC 动力电池", "动力电池"),
         ("VR 沉浸式体验", "沉浸式体验"), ("CMA 检验检测", "检验检测")]
UNKNOWN = ["超导量子比特", "引力波探测", "脑机接口", "深海探测器", "航空发动机叶片", "可控核聚变", "合成生物学",
           "太赫兹成像", "柔性显示屏", "卫星遥感", "商业航天", "光刻机", "液态金属", "冷冻电镜", "高超声速",
           "类脑芯片", "钠离子电池", "暗物质探测", "仿生机器鱼", "低空经济"]
# Filters rotated over the text queries: a quarter without any, the rest with region, kind, field or sort.
TEXT_FILTERS = [(), ("region",), ("kind",), ("field",), (), ("region", "kind"), ("field", "region"), ("sort",)]
BROWSE_FILTERS = [("region",), ("kind",), ("field",), ("region", "kind"), ("sort",), ("field", "region")]


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def weighted(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class OtherLoad:
    """The share of the machine's CPU time that processes other than this benchmark and its Meilisearch used, per
    phase: figures measured while other work ran (a test suite, a build) are not comparable with quiet ones."""

    def __init__(self, meili_pid: int | None, wait_for_quiet: float) -> None:
        self.meili_pid = meili_pid
        self.wait_for_quiet = wait_for_quiet
        self.shares: dict[str, float] = {}
        self.waited: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self._wait_until_quiet(name)
        before = self._snapshot()
        yield
        self.shares[name] = self._share_since(before)

    def _wait_until_quiet(self, name: str) -> None:
        """On a shared machine: wait, up to --wait-for-quiet seconds, for a few seconds without other work."""
        start = time.monotonic()
        while time.monotonic() - start < self.wait_for_quiet:
            before = self._snapshot()
            time.sleep(QUIET_WINDOW_SECONDS)
            if self._share_since(before) <= OTHER_LOAD_WARNING:
                break
        if self.wait_for_quiet:
            self.waited[name] = time.monotonic() - start

    def _share_since(self, before: tuple[int, int, int]) -> float:
        total, busy, own = (after - first for first, after in zip(before, self._snapshot(), strict=True))
        return max(0.0, (busy - own) / total) if total else 0.0

    def _snapshot(self) -> tuple[int, int, int]:
        """Jiffies of all CPUs: in total, busy, and spent by this process and its Meilisearch."""
        user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
        total = user + nice + system + idle + iowait + irq + softirq + steal
        own = self._jiffies("self") + (self._jiffies(str(self.meili_pid)) if self.meili_pid else 0)
        return total, total - idle - iowait, own

    @staticmethod
    def _jiffies(pid: str) -> int:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
        return int(fields[11]) + int(fields[12])  # utime + stime, all threads


# Meilisearch --------------------------------------------------------------------------------------------

@dataclass
class MeiliMemory:
    peak: float | None  # MiB; None for a server we did not start
    anonymous: float | None
    file_backed: float | None  # the index files Meilisearch maps, counted in its RSS


@dataclass
class MeiliServer:
    url: str
    key: str | None
    process: subprocess.Popen[bytes] | None  # None: a server we did not start (MEILI_URL)
    data_dir: Path | None

    def memory(self) -> MeiliMemory:
        if self.process is None:
            return MeiliMemory(None, None, None)
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return MeiliMemory(*(int(status[name].split()[0]) / 1024 for name in ("VmHWM", "RssAnon", "RssFile")))

    def disk_mib(self) -> float | None:
        if self.data_dir is None:
            return None
        return sum(path.stat().st_size for path in self.data_dir.rglob("*") if path.is_file()) / 2**20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def meilisearch_server(workdir: Path) -> Iterator[MeiliServer]:
    """Our own Meilisearch on a free loopback port, stopped on the way out whatever happens."""
    if os.environ.get("MEILI_URL"):
        yield MeiliServer(os.environ["MEILI_URL"], os.environ.get("MEILI_MASTER_KEY"), None, None)
        return
    installed = subprocess.run([str(ROOT / "scripts" / "install-meilisearch")], capture_output=True, text=True)
    if installed.returncode != 0:
        raise SystemExit(f"scripts/install-meilisearch failed:\n{installed.stderr}")
    binary = installed.stdout.strip().splitlines()[-1]
    data = workdir / "meili"
    data.mkdir()
    url, key = f"http://127.0.0.1:{free_port()}", secrets.token_urlsafe(24)
    log_path = data / "meili.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [binary, "--http-addr", url.removeprefix("http://"), f"--master-key={key}",  # a key may start with -
             "--db-path", str(data / "data.ms"), "--dump-dir", str(data / "dumps"),
             "--snapshot-dir", str(data / "snapshots"), "--no-analytics", "--env", "development",
             "--max-indexing-threads", "2", "--log-level", "WARN"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(url, process, log_path)
        yield MeiliServer(url, key, process, data / "data.ms")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"Meilisearch did not start; its log:\n{log_path.read_text(errors='replace')}")


def wait_for(client: meilisearch.Client, task: Any) -> None:
    done = client.wait_for_task(task.task_uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=20)
    if done.status != "succeeded":
        raise RuntimeError(f"Meilisearch task {task.task_uid} {done.status}: {done.error}")


def delete_index(client: meilisearch.Client, uid: str) -> None:
    wait_for(client, client.delete_index(uid))


def delete_index_if_present(client: meilisearch.Client, uid: str) -> None:
    try:
        delete_index(client, uid)
    except RuntimeError as error:
        if "index_not_found" not in str(error):
            raise


# The app --------------------------------------------------------------------------------------------------

def make_app(database_url: str, **overrides: Any) -> Flask:
    app = create_app({"SQLALCHEMY_ENGINES": {"default": database_url}, "RUN_WORKER_IN_PROCESS": False, **overrides},
                     environment="test")
    logging.getLogger().setLevel(logging.WARNING)  # create_app logs at INFO: mails and every request
    return app


def prepare_database(app: Flask) -> None:
    with app.app_context():
        schema.create_all(db.engine)
        load_reference_data(db.session)
        services.ensure_vocabulary(db.session)  # the field names, as the app learns them


class QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app behind a real HTTP server on loopback, as users reach it."""
    server = make_server("127.0.0.1", 0, app, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="bench-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


# The corpus -------------------------------------------------------------------------------------------------

def load_fields() -> dict[str, TechnologyField]:
    """Sub-fields of seed/fields.json as detached objects, checked against TERMS."""
    tree = json.loads((ROOT / "seed" / "fields.json").read_text(encoding="utf-8"))
    fields = {child["code"]: TechnologyField(code=child["code"], parent_code=parent["code"], name_zh=child["name_zh"])
              for parent in tree for child in parent["children"]}
    if set(fields) != set(TERMS):
        raise SystemExit(f"TERMS must cover the sub-fields of seed/fields.json: {sorted(set(fields) ^ set(TERMS))}")
    return fields


def corpus_vocabulary() -> list[str]:
    """Every word an entry's keywords may hold: the phrases, and each with a modifier."""
    phrases = [term for terms in TERMS.values() for term in terms]
    return phrases + [modifier + term for modifier in MODIFIERS for term in phrases]


@dataclass(frozen=True)
class Owner:
    id: int
    region: str
    organization: Organization


class CorpusGenerator:
    """Reproducible random entries, as unsaved model objects that build_document turns into documents."""

    def __init__(self, rng: random.Random, districts: dict[str, list[int]], size: int) -> None:
        self.rng = rng
        self.districts = districts
        self.fields = load_fields()
        self.all_terms = [term for terms in TERMS.values() for term in terms]
        self.owners = [self._owner(number) for number in range(min(5000, max(50, size // 20)))]
        self.published_base = datetime(2025, 6, 30)

    def _owner(self, number: int) -> Owner:
        region = weighted(self.rng, REGION_WEIGHTS)
        name = f"{self.rng.choice(CITIES[region])}{self.rng.choice(ORG_BRANDS)}{self.rng.choice(ORG_SUFFIXES)}"
        organization_id = ID_BASE + number
        return Owner(organization_id, region, Organization(id=organization_id, name=name))

    def entry(self, number: int) -> Entry:
        rng = self.rng
        kind = weighted(rng, KIND_WEIGHTS)
        subfield = rng.choice(list(TERMS))
        area = self.fields[subfield].parent_code
        owner = rng.choice(self.owners)
        a, b = rng.sample(TERMS[subfield], 2)
        values = {
            "a": a, "b": b, "c": rng.choice(self.all_terms), "abbr": rng.choice(ABBREVIATIONS[area]),
            "mod": rng.choice(MODIFIERS) if rng.random() < 0.6 else "", "city": rng.choice(CITIES[owner.region]),
            "region": REGION_NAMES[owner.region], "org": owner.organization.name,
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), "rank": rng.choice(RANKS),
            "mode": MODE_NAMES[rng.choice(list(MODE_NAMES))],
            "n": rng.randint(15, 60), "p": rng.randint(10, 40), "m": rng.randint(2, 12), "q": rng.randint(90, 99),
        }
        status = weighted(rng, STATUS_WEIGHTS)
        entry = ENTRY_MODELS[EntryKind(kind)](
            id=ID_BASE + number, title=rng.choice(TITLE_PATTERNS[kind]).format(**values),
            summary=self._summary(kind, values), keywords=self._keywords(a, b, values["abbr"]),
            organization=owner.organization, organization_id=owner.id, region_code=owner.region,
            district_id=rng.choice(self.districts[owner.region]), field_code=subfield, field=self.fields[subfield],
            status=status, published_at=self._published_at() if status is EntryStatus.APPROVED else None)
        self._kind_specifics(entry, kind)
        return entry

    def _summary(self, kind: str, values: dict[str, Any]) -> str:
        sentences = [LEADS[kind].format(**values)]
        for template in self.rng.sample(SENTENCES, len(SENTENCES)):
            if sum(map(len, sentences)) >= SUMMARY_LENGTH:
                break
            sentences.append(template.format(**values))
        return "".join(sentences)

    def _keywords(self, a: str, b: str, abbreviation: str) -> list[str]:
        words = [a, b]
        if self.rng.random() < 0.5:
            words.append(self.rng.choice(MODIFIERS) + a)
        if self.rng.random() < 0.4:
            words.append(abbreviation)
        return words

    def _published_at(self) -> datetime:
        return self.published_base - timedelta(seconds=self.rng.randint(0, 3 * 365 * 86400))

    def _price_fen(self, low_yuan: float, high_yuan: float) -> int:
        yuan = round(10 ** self.rng.uniform(math.log10(low_yuan), math.log10(high_yuan)), -4)
        return int(yuan) * 100

    def _kind_specifics(self, entry: Entry, kind: str) -> None:
        rng = self.rng
        if kind == "achievement":
            entry.maturity = rng.choice(list(Maturity))
            entry.price_fen = None if rng.random() < 0.3 else self._price_fen(1e5, 5e7)  # None: 面议
            entry.mode_values = rng.sample(list(CooperationMode), rng.randint(1, 3))
        elif kind == "need":
            entry.required_maturity = rng.choice(list(Maturity))
            entry.budget_max_fen = None if rng.random() < 0.25 else self._price_fen(1e5, 2e7)
            entry.mode_values = rng.sample(list(CooperationMode), rng.randint(1, 2))
        elif kind == "project":
            entry.budget_fen = self._price_fen(1e6, 1e8)


def district_ids(app: Flask) -> dict[str, list[int]]:
    with app.app_context():
        rows = db.session.execute(sa.select(District.region_code, District.id)).all()
    ids: dict[str, list[int]] = {}
    for region, district in rows:
        ids.setdefault(region, []).append(district)
    return ids


def generate_corpus(app: Flask, size: int, rng: random.Random) -> tuple[list[dict[str, Any]], float]:
    """Documents exactly as build_document makes them, and the seconds it took to build them."""
    text.learn_vocabulary(corpus_vocabulary())
    generator = CorpusGenerator(rng, district_ids(app), size)
    documents = []
    start = time.perf_counter()
    for number in range(size):
        documents.append(build_document(generator.entry(number)))
        if (number + 1) % 10000 == 0:
            progress(f"  {number + 1:,} documents built")
    return documents, time.perf_counter() - start


# Indexing ---------------------------------------------------------------------------------------------------

@dataclass
class IndexingFigures:
    build_seconds: float
    raw_pipelined_seconds: float
    raw_serial_seconds: float
    project_seconds: float
    vocabulary_refresh_seconds: float


def index_with_raw_client(client: meilisearch.Client, uid: str, documents: list[dict[str, Any]],
                          wait_each_batch: bool) -> float:
    """Create an index with the project's settings and load it in batches with the plain client: either every
    batch sent at once and all tasks awaited at the end (as the project's indexer does), or one batch at a time."""
    start = time.perf_counter()
    wait_for(client, client.create_index(uid, {"primaryKey": "id"}))
    index = client.index(uid)
    wait_for(client, index.update_settings(settings(text.vocabulary())))
    pending = []
    for offset in range(0, len(documents), BATCH_SIZE):
        task = index.add_documents(documents[offset:offset + BATCH_SIZE], "id")
        if wait_each_batch:
            wait_for(client, task)
        else:
            pending.append(task)
    for task in pending:
        wait_for(client, task)
    elapsed = time.perf_counter() - start
    if index.get_stats().number_of_documents != len(documents):
        raise RuntimeError(f"index {uid} holds {index.get_stats().number_of_documents} documents, not {len(documents)}")
    return elapsed


def index_with_project(engine: MeiliBackend, documents: list[dict[str, Any]]) -> float:
    """What `flask --app wsgi search reindex` does once the documents are built: rebuild, swap, drop."""
    start = time.perf_counter()
    engine.rebuild(iter(documents))
    elapsed = time.perf_counter() - start
    if engine.count() != len(documents):
        raise RuntimeError(f"the project's index holds {engine.count()} documents, not {len(documents)}")
    return elapsed


def time_vocabulary_refresh(documents: list[dict[str, Any]]) -> float:
    """What ensure_vocabulary does with every entry's keywords each VOCABULARY_REFRESH_SECONDS (the database read
    excluded), on a search request of each process."""
    keywords = [word for document in documents for word in document["keywords"]]
    start = time.perf_counter()
    text.learn_vocabulary(keywords)
    return time.perf_counter() - start


def measure_indexing(client: meilisearch.Client, engine: MeiliBackend, raw_pipelined: str, raw_serial: str,
                     documents: list[dict[str, Any]], build_seconds: float) -> IndexingFigures:
    """The raw client twice (the pipelined index is dropped at once, the serial one kept for the dictionary's
    cost), then the project's indexer into the app's index."""
    progress(f"indexing with the raw client into {raw_pipelined}")
    pipelined_seconds = index_with_raw_client(client, raw_pipelined, documents, wait_each_batch=False)
    delete_index(client, raw_pipelined)
    progress(f"indexing with the raw client into {raw_serial}")
    serial_seconds = index_with_raw_client(client, raw_serial, documents, wait_each_batch=True)
    progress(f"indexing with the project's indexer (MeiliBackend.rebuild) into {engine.index_uid}")
    project_seconds = index_with_project(engine, documents)
    return IndexingFigures(build_seconds, pipelined_seconds, serial_seconds, project_seconds,
                           time_vocabulary_refresh(documents))


# Queries ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuerySpec:
    category: str
    q: str
    region: str | None = None
    kind: str | None = None
    field: str | None = None
    sort: str = "relevance"

    def url(self, base_url: str) -> str:
        params = {"q": self.q, "region": self.region, "kind": self.kind, "field": self.field,
                  "sort": None if self.sort == "relevance" else self.sort}
        return f"{base_url}/api/v1/search?{urllib.parse.urlencode({k: v for k, v in params.items() if v})}"

    def service_params(self) -> services.SearchParams:
        return services.SearchParams(q=self.q, kinds=(self.kind,) if self.kind else (), region=self.region,
                                     field=self.field, sort=self.sort)

    def raw_options(self) -> dict[str, Any]:
        """What a thin client would send: the same filter (public entries), facets, page size and fields."""
        query = SearchQuery(text=self.q, kinds=(self.kind,) if self.kind else (), region=self.region,
                            field=self.field, sort=self.sort, labels=(PUBLIC,))
        options: dict[str, Any] = {"filter": filter_expression(query), "facets": list(FACETS), "page": 1,
                                   "hitsPerPage": query.per_page, "attributesToRetrieve": RETRIEVED,
                                   "matchingStrategy": "all"}
        if SORTS[self.sort]:
            options["sort"] = [":".join(SORTS[self.sort])]
        return options


def build_queries(rng: random.Random) -> list[QuerySpec]:
    """200 queries: words, parts of compounds, two words, traditional characters, homophone typos, pinyin,
    Chinese with English, words the corpus lacks, and browsing with filters only."""
    area_of = {term: code.split(".")[0] for code, terms in TERMS.items() for term in terms}
    all_terms = list(area_of)
    drafts: list[tuple[str, str, str | None]] = [("word", term, area_of[term]) for term in rng.sample(all_terms, 40)]
    drafts += [("part of a compound", part, None) for part in PARTS]
    for code in rng.choices(list(TERMS), k=20):
        first, second = rng.sample(TERMS[code], 2)
        drafts.append(("two words", f"{first} {second}", code.split(".")[0]))
    drafts += [("traditional", q, area_of.get(text.normalize(q))) for q in TRADITIONAL]
    drafts += [("homophone typo", q, area_of[meant]) for q, meant in HOMOPHONES]
    drafts += [("pinyin", q, area_of[meant]) for q, meant in PINYIN]
    drafts += [("Chinese + English", q, area_of[meant]) for q, meant in MIXED]
    drafts += [("not in corpus", q, None) for q in UNKNOWN]
    queries = [with_filters(rng, category, q, area, TEXT_FILTERS[number % len(TEXT_FILTERS)])
               for number, (category, q, area) in enumerate(drafts)]
    queries += [with_filters(rng, "filters only", "", None, BROWSE_FILTERS[number % len(BROWSE_FILTERS)])
                for number in range(QUERY_COUNT - len(queries))]
    return queries


def with_filters(rng: random.Random, category: str, q: str, area: str | None, filters: tuple[str, ...]) -> QuerySpec:
    chosen: dict[str, str] = {}
    for name in filters:
        if name == "region":
            chosen["region"] = weighted(rng, REGION_WEIGHTS)
        elif name == "kind":
            chosen["kind"] = weighted(rng, KIND_WEIGHTS)
        elif name == "field":
            chosen["field"] = area or rng.choice(sorted(ABBREVIATIONS))
        elif name == "sort":
            chosen["sort"] = rng.choice(["newest", "price_asc", "price_desc"])
    return QuerySpec(category, q, **chosen)


class EngineCallCounter:
    """Counts the requests the app's Meilisearch backend sends (a query may need a second one, by pinyin)."""

    def __init__(self, engine: MeiliBackend) -> None:
        self.count = 0
        search_once = engine._search

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return search_once(*args, **kwargs)

        engine._search = counted  # type: ignore[method-assign]


@dataclass
class QuerySample:
    spec: QuerySpec
    seconds: float
    total: int
    engine_calls: int = 1


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def query_app(base_url: str, spec: QuerySpec, counter: EngineCallCounter) -> QuerySample:
    calls_before = counter.count
    start = time.perf_counter()
    with urllib.request.urlopen(spec.url(base_url), timeout=30) as response:
        answer = json.loads(response.read())
    seconds = time.perf_counter() - start
    if answer["backend"] != "meilisearch" or answer["degraded"]:
        raise RuntimeError(f"the app answered {spec} from {answer['backend']} (degraded={answer['degraded']})")
    return QuerySample(spec, seconds, answer["total"], counter.count - calls_before)


def query_raw(index: Any, spec: QuerySpec) -> QuerySample:
    """The official client as it comes: it opens a new connection for every request."""
    options = spec.raw_options()
    start = time.perf_counter()
    answer = index.search(spec.q, options)
    return QuerySample(spec, time.perf_counter() - start, answer["totalHits"])


@dataclass
class QueryTimings:
    app: list[QuerySample]
    raw: list[QuerySample]  # the official client as it comes
    raw_kept_alive: list[QuerySample]  # the same client over the app's kept-alive connection


def measure_queries(base_url: str, index: Any, kept_alive_index: Any, counter: EngineCallCounter,
                    queries: list[QuerySpec], rounds: int, rng: random.Random) -> QueryTimings:
    """One warm-up pass, then `rounds` passes in a shuffled order, the app and the two raw clients taking turns to
    go first."""
    timings = QueryTimings([], [], [])
    runs = [(timings.app, lambda spec: query_app(base_url, spec, counter)),
            (timings.raw, lambda spec: query_raw(index, spec)),
            (timings.raw_kept_alive, lambda spec: query_raw(kept_alive_index, spec))]
    for spec in queries:
        for _, run in runs:
            run(spec)
    for _ in range(rounds):
        for position, spec in enumerate(rng.sample(queries, len(queries))):
            for samples, run in runs[position % 3:] + runs[:position % 3]:
                samples.append(run(spec))
    return timings


@dataclass
class DictionaryVariant:
    words: int
    reindex_seconds: float  # applying the setting re-indexes every document
    samples: list[QuerySample]


@dataclass
class DictionaryCost:
    words: int  # the app's setting: the vocabulary's words that the segmenter would cut to single characters
    whole_vocabulary: DictionaryVariant  # the setting as it was before that trimming
    none: DictionaryVariant


def measure_dictionary_variants(client: meilisearch.Client, uid: str, queries: list[QuerySpec], rounds: int,
                                rng: random.Random) -> DictionaryCost:
    """The same documents and settings with the whole vocabulary as the `dictionary` setting, then with none:
    what the app's dictionary costs per query, and what trimming it saved."""
    index = client.index(uid)
    words = len(index.get_settings()["dictionary"])

    def variant(dictionary: list[str]) -> DictionaryVariant:
        start = time.perf_counter()
        wait_for(client, index.update_settings({"dictionary": dictionary}))
        reindex_seconds = time.perf_counter() - start
        for spec in queries:
            query_raw(index, spec)
        samples = [query_raw(index, spec) for _ in range(rounds) for spec in rng.sample(queries, len(queries))]
        return DictionaryVariant(len(dictionary), reindex_seconds, samples)

    cost = DictionaryCost(words, variant(sorted(text.vocabulary())), variant([]))
    delete_index(client, uid)
    return cost


# Approval → searchable ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Submitted:
    kind: str
    id: int
    region: str


@dataclass
class ApprovalRun:
    worker: str
    idle_seconds: float
    delays: list[float] = field(default_factory=list)
    missed: int = 0
    task_seconds: list[float] = field(default_factory=list)  # Meilisearch's processing of each upsert


@dataclass
class WorkerStart:
    new_words: int
    changed_seconds: float
    unchanged_seconds: float


def create_submitted_entries(app: Flask, count: int) -> tuple[list[Submitted], dict[str, int]]:
    """Real entries, through the services, waiting for review in each region; and each region's reviewer."""
    kinds = list(EntryKind)
    regions = list(REGION_WEIGHTS)
    with app.test_request_context():
        session = db.session
        owners = {(region, owner_kind): factories.organization(session, kind=owner_kind, region=region).owner.id
                  for region in regions for owner_kind in sorted(set(factories.ENTRY_OWNER_KIND.values()))}
        reviewers = {region: factories.region_admin(session, region).id for region in regions}
        entries = []
        for number in range(count):
            kind, region = kinds[number % len(kinds)], regions[number % len(regions)]
            owner = session.get(User, owners[(region, factories.ENTRY_OWNER_KIND[kind.value])])
            created = factories.entry(session, kind.value, status="submitted", owner=owner)
            entries.append(Submitted(kind.value, created.id, region))
    return entries, reviewers


def start_worker_like_cli(app: Flask) -> WorkerStart:
    """What `flask --app wsgi worker` does first (prepare_engine: apply the settings), timed once with the
    keywords of the new entries learnt and once more unchanged; then index the pending outbox."""
    with app.app_context():
        known = text.vocabulary()
        text.learn_vocabulary([word for keywords in db.session.scalars(sa.select(Entry.keywords)) for word in keywords])
        new_words = len(text.vocabulary() - known)
        start = time.perf_counter()
        services.prepare_engine()
        changed_seconds = time.perf_counter() - start
        start = time.perf_counter()
        services.prepare_engine()
        unchanged_seconds = time.perf_counter() - start
        while drain(db.session):
            pass
    return WorkerStart(new_words, changed_seconds, unchanged_seconds)


@contextmanager
def running_worker(app: Flask, in_process: bool) -> Iterator[float]:
    """The outbox worker in a thread: either as `flask --app wsgi worker` runs it (its --idle default) or the
    in-process worker of the embedded default (start_background_worker); yields its idle wait."""
    if in_process:
        idle = inspect.signature(start_background_worker).parameters["idle_seconds"].default
        stop = start_background_worker(app)
    else:
        idle = next(option.default for option in worker_command.params if option.name == "idle")
        stop = threading.Event()
        threading.Thread(target=run_worker, args=(app, stop), kwargs={"idle_seconds": idle},
                         name="outbox-worker", daemon=True).start()
    try:
        yield idle
    finally:
        stop.set()
        for thread in threading.enumerate():
            if thread.name == "outbox-worker":
                thread.join()


def wait_until_public(index: Any, entry: Submitted) -> float | None:
    options = {"filter": [f"entry_id = {entry.id}", f'kind = "{entry.kind}"', f'visibility = "{PUBLIC}"'],
               "limit": 1, "attributesToRetrieve": ["id"]}
    deadline = time.perf_counter() + APPROVAL_TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        if index.search("", options)["hits"]:
            return time.perf_counter()
        time.sleep(POLL_SECONDS)
    return None


def measure_approvals(app: Flask, index: Any, entries: list[Submitted], reviewers: dict[str, int],
                      in_process: bool, rng: random.Random) -> ApprovalRun:
    """Approve one entry at a time, at a random moment of the worker's idle wait (as approvals arrive), and
    poll until the public can find it."""
    with running_worker(app, in_process) as idle:
        run = ApprovalRun("in-process worker" if in_process else "flask --app wsgi worker", idle)
        time.sleep(idle)
        for entry in entries:
            time.sleep(rng.uniform(0, idle))
            with app.test_request_context():
                reviewer = db.session.get(User, reviewers[entry.region])
                change_status(db.session, reviewer, EntryKind(entry.kind), entry.id, "approve")
            approved = time.perf_counter()
            searchable_at = wait_until_public(index, entry)
            if searchable_at is None:
                run.missed += 1
            else:
                run.delays.append(searchable_at - approved)
    run.task_seconds = upsert_task_seconds(index, len(entries))
    return run


def upsert_task_seconds(index: Any, count: int) -> list[float]:
    """How long Meilisearch took over each of the last `count` document upserts of the index."""
    tasks = index.get_tasks({"types": ["documentAdditionOrUpdate"], "limit": count}).results
    return [(task.finished_at - task.started_at).total_seconds() for task in tasks]


# The embedded backend ----------------------------------------------------------------------------------------

@dataclass
class EmbeddedFigures:
    documents: int
    build_seconds: float
    samples: list[QuerySample]


def measure_embedded(workdir: Path, database_url: str, documents: list[dict[str, Any]], queries: list[QuerySpec],
                     rounds: int, rng: random.Random) -> EmbeddedFigures:
    path = workdir / "embedded.sqlite"
    start = time.perf_counter()
    EmbeddedBackend(path).rebuild(iter(documents))
    build_seconds = time.perf_counter() - start
    app = make_app(database_url, MEILI_URL=None, SEARCH_INDEX_PATH=str(path))

    def run(spec: QuerySpec) -> QuerySample:
        with app.test_request_context():
            start = time.perf_counter()
            result = services.search(db.session, Visitor(), spec.service_params())
            seconds = time.perf_counter() - start
        if result.backend != "embedded":
            raise RuntimeError(f"the embedded app answered {spec} from {result.backend}")
        return QuerySample(spec, seconds, result.total)

    for spec in queries:
        run(spec)
    samples = [run(spec) for _ in range(rounds) for spec in rng.sample(queries, len(queries))]
    return EmbeddedFigures(len(documents), build_seconds, samples)


# The report ---------------------------------------------------------------------------------------------------

@dataclass
class Report:
    size: int
    rounds: int
    meili_version: str
    own_server: bool
    vocabulary_words: int
    summary_characters: float
    indexing: IndexingFigures
    app_samples: list[QuerySample]
    raw_samples: list[QuerySample]
    raw_kept_alive_samples: list[QuerySample]
    dictionary: DictionaryCost
    worker_start: WorkerStart
    approvals: list[ApprovalRun]
    embedded: EmbeddedFigures
    meili_memory: MeiliMemory
    index_disk_mib: float | None
    other_load: dict[str, float]
    waited: dict[str, float]
    bench_peak_mib: float


LABEL = 50  # width of the label column of the report's tables


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.1f}"


def latency_row(label: str, seconds: list[float]) -> str:
    return f"  {label:<{LABEL}}{ms(percentile(seconds, 50))}{ms(percentile(seconds, 95))}{ms(percentile(seconds, 99))}"


def seconds_of(samples: list[QuerySample]) -> list[float]:
    return [sample.seconds for sample in samples]


def found(samples: list[QuerySample], rounds: int) -> int:
    """How many queries of one round found something."""
    return sum(sample.total > 0 for sample in samples) // rounds


def same_totals(first: list[QuerySample], second: list[QuerySample]) -> int:
    """How many queries had the same total number of hits in both."""
    totals = {sample.spec: sample.total for sample in second}
    return sum(totals[spec] == total for spec, total in {s.spec: s.total for s in first}.items())


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MiB"


def machine_description() -> str:
    cpus = len(os.sched_getaffinity(0))
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal:"))
    return f"nproc {cpus} ({model}), {memory_kib / 2**20:.1f} GiB RAM, Python {platform.python_version()}"


def print_report(report: Report) -> None:
    server = "own server, --max-indexing-threads 2" if report.own_server else "server at MEILI_URL"
    header = [
        "",
        "bench/search — cross-region search (issue 4)",
        f"machine:  {machine_description()}",
        f"engine:   Meilisearch {report.meili_version} ({server}); client meilisearch "
        f"{package_metadata.version('meilisearch')}",
        f"corpus:   {report.size:,} documents, summaries of {report.summary_characters:.0f} characters on average, "
        f"11 fields, BJ/TJ/HE; dictionary setting of {report.dictionary.words:,} words of a vocabulary of "
        f"{report.vocabulary_words:,}",
    ]
    sections = [header, indexing_section(report), queries_section(report), category_table(report),
                approvals_section(report), embedded_section(report), resources_section(report), targets_section(report)]
    print("\n\n".join("\n".join(lines) for lines in sections) + "\n", flush=True)


def indexing_rates(report: Report) -> dict[str, float]:
    figures = report.indexing
    return {name: report.size / seconds for name, seconds in (
        ("build", figures.build_seconds), ("pipelined", figures.raw_pipelined_seconds),
        ("serial", figures.raw_serial_seconds), ("project", figures.project_seconds))}


def indexing_section(report: Report) -> list[str]:
    figures, rate = report.indexing, indexing_rates(report)
    rows = [("building the documents (build_document, 1 process)", "build", figures.build_seconds),
            ("raw client, every batch sent, then all awaited", "pipelined", figures.raw_pipelined_seconds),
            ("raw client, one batch at a time", "serial", figures.raw_serial_seconds),
            ("project's indexer (MeiliBackend.rebuild)", "project", figures.project_seconds)]
    return [
        f"{f'Indexing {report.size:,} documents in batches of {BATCH_SIZE}':<{LABEL + 2}}{'docs/s':>9}{'seconds':>9}",
        *(f"  {label:<{LABEL}}{rate[name]:9,.0f}{seconds:9.1f}" for label, name, seconds in rows),
        f"  project's indexer / raw client: {rate['project'] / rate['pipelined']:.0%} "
        f"(/ raw one batch at a time: {rate['project'] / rate['serial']:.0%})",
        f"  a full reindex from the database builds every document too: ≈ "
        f"{report.size / (figures.build_seconds + figures.project_seconds):,.0f} docs/s",
    ]


def queries_section(report: Report) -> list[str]:
    dictionary = report.dictionary
    raw = seconds_of(report.raw_samples)
    whole, none = seconds_of(dictionary.whole_vocabulary.samples), seconds_of(dictionary.none.samples)
    per_round = len(report.app_samples) // report.rounds

    def added(samples: list[float]) -> str:
        return f"{(percentile(samples, 50) - percentile(none, 50)) * 1000:.1f} ms"

    return [
        f"{f'Queries: {per_round} × {report.rounds} rounds after a warm-up, one at a time':<{LABEL + 2}}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
        latency_row("app  GET /api/v1/search (HTTP on loopback)", seconds_of(report.app_samples)),
        latency_row("raw  index.search (same filter, facets, page size)", raw),
        latency_row("raw  the same over a kept-alive connection, as the app", seconds_of(report.raw_kept_alive_samples)),
        latency_row("raw  the same, whole vocabulary as dictionary", whole),
        latency_row("raw  the same without the dictionary setting", none),
        f"  app p50 / raw p50: {p50_ratio(report.app_samples, report.raw_samples):.2f}× against the client as it "
        f"comes (a new connection per request), {p50_ratio(report.app_samples, report.raw_kept_alive_samples):.2f}× "
        f"against the same client over a kept-alive connection, as the app sends its requests",
        f"  Meilisearch requests per app query: "
        f"{sum(s.engine_calls for s in report.app_samples) / len(report.app_samples):.2f}",
        like_for_like(report),
        f"  the dictionary setting ({dictionary.words:,} words) adds {added(raw)} to the raw p50, the whole "
        f"vocabulary ({dictionary.whole_vocabulary.words:,} words) {added(whole)}; queries that find something "
        f"with the setting / the whole vocabulary / none: {found(report.raw_samples, report.rounds)} / "
        f"{found(dictionary.whole_vocabulary.samples, report.rounds)} / {found(dictionary.none.samples, report.rounds)}"
        f"; with the same total as with the whole vocabulary: "
        f"{same_totals(report.raw_samples, dictionary.whole_vocabulary.samples)} of {per_round}, as with none: "
        f"{same_totals(report.raw_samples, dictionary.none.samples)}; changing the setting re-indexed everything in "
        f"{dictionary.whole_vocabulary.reindex_seconds:.1f} s and {dictionary.none.reindex_seconds:.1f} s",
    ]


def p50_ratio(samples: list[QuerySample], baseline: list[QuerySample]) -> float:
    return percentile(seconds_of(samples), 50) / percentile(seconds_of(baseline), 50)


def like_for_like(report: Report) -> str:
    """The app against the raw client on the queries where both made Meilisearch do the same work: one request
    that found the same total. On the others the app does more: it folds traditional characters, searches by
    pinyin when the characters sound like a known word or find nothing, where the raw query finds nothing fast."""
    raw_totals = {sample.spec: sample.total for sample in report.raw_samples}
    more_work = {sample.spec for sample in report.app_samples
                 if sample.engine_calls != 1 or sample.total != raw_totals[sample.spec]}
    app, raw = ([sample.seconds for sample in samples if sample.spec not in more_work]
                for samples in (report.app_samples, report.raw_samples))
    count = len({sample.spec for sample in report.app_samples} - more_work)
    return (f"  like for like, the {count} queries on which the app sent one request and found the same total as the "
            f"raw client: app p50 {percentile(app, 50) * 1000:.1f} ms, raw p50 {percentile(raw, 50) * 1000:.1f} ms: "
            f"{percentile(app, 50) / percentile(raw, 50):.2f}×")


def category_table(report: Report) -> list[str]:
    lines = [f"  {'by kind of query':<24}{'n':>4}{'app p50':>9}{'raw p50':>9}{'embedded':>9}{'requests':>9}"
             f"   found app/raw/embedded"]
    for category in dict.fromkeys(sample.spec.category for sample in report.app_samples):
        app, raw, embedded = ([s for s in samples if s.spec.category == category] for samples in
                              (report.app_samples, report.raw_samples, report.embedded.samples))
        hits = "/".join(str(found(samples, report.rounds)) for samples in (app, raw, embedded))
        lines.append(f"  {category:<24}{len(app) // report.rounds:4}{ms(percentile(seconds_of(app), 50))}"
                     f"{ms(percentile(seconds_of(raw), 50))}{ms(percentile(seconds_of(embedded), 50))}"
                     f"{sum(s.engine_calls for s in app) / len(app):9.2f}   {hits}")
    return lines


def approvals_section(report: Report) -> list[str]:
    count = len(report.approvals[0].delays) + report.approvals[0].missed
    lines = [f"{f'Approval → searchable: {count} approvals per worker':<{LABEL + 2}}{'p50 ms':>9}{'p95 ms':>9}"
             f"{'max ms':>9}"]
    for run in report.approvals:
        label = f"{run.worker}, idle {run.idle_seconds:g} s"
        if not run.delays:
            lines.append(f"  {label:<{LABEL}}none searchable within {APPROVAL_TIMEOUT_SECONDS:g} s")
            continue
        lines.append(f"  {label:<{LABEL}}{ms(percentile(run.delays, 50))}{ms(percentile(run.delays, 95))}"
                     f"{ms(max(run.delays))}" + (f"   {run.missed} never searchable" if run.missed else ""))
        lines.append(f"    {'of which Meilisearch processing the upsert':<{LABEL - 2}}"
                     f"{ms(percentile(run.task_seconds, 50))}{ms(percentile(run.task_seconds, 95))}"
                     f"{ms(max(run.task_seconds))}")
    start = report.worker_start
    lines.append(f"  worker start (prepare_engine → apply_settings): {start.changed_seconds:.1f} s with "
                 f"{start.new_words} new vocabulary words, {start.unchanged_seconds:.2f} s unchanged")
    return lines


def embedded_section(report: Report) -> list[str]:
    embedded = report.embedded
    return [
        f"{f'Embedded backend (SQLite FTS5), {embedded.documents:,} documents':<{LABEL + 2}}"
        f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
        latency_row("services.search", seconds_of(embedded.samples)),
        f"  building the index (EmbeddedBackend.rebuild): {embedded.build_seconds:.1f} s, "
        f"{embedded.documents / embedded.build_seconds:,.0f} docs/s",
    ]


def resources_section(report: Report) -> list[str]:
    memory = report.meili_memory
    busy = [name for name, share in report.other_load.items() if share > OTHER_LOAD_WARNING]
    return [
        "Machine load, memory and disk",
        "  other processes' share of the CPU during: "
        + ", ".join(f"{name} {share:.0%}" for name, share in report.other_load.items()),
        f"  !! other work ran during {', '.join(busy)}: those figures are not comparable with a quiet run"
        if busy else "  the machine was otherwise quiet",
        *(["  waited for a quiet machine before: " + ", ".join(f"{name} {seconds:.0f} s"
                                                               for name, seconds in report.waited.items())]
          if report.waited else []),
        f"  Meilisearch: peak RSS {mib(memory.peak)} (at the end: {mib(memory.anonymous)} anonymous, "
        f"{mib(memory.file_backed)} mapped index files); the app's index on disk {mib(report.index_disk_mib)}",
        f"  this benchmark's process: peak RSS {mib(report.bench_peak_mib)}",
        f"  vocabulary refresh (learn_vocabulary over every entry's keywords, each "
        f"{services.VOCABULARY_REFRESH_SECONDS} s in each process, the database read excluded): "
        f"{report.indexing.vocabulary_refresh_seconds * 1000:.0f} ms",
    ]


def targets_section(report: Report) -> list[str]:
    rate = indexing_rates(report)
    indexing_ratio = rate["project"] / rate["pipelined"]
    query_ratio = p50_ratio(report.app_samples, report.raw_samples)
    embedded_p50 = percentile(seconds_of(report.embedded.samples), 50)
    rows = [
        (f"indexing ≥ {TARGET_INDEXING_RATIO:.0%} of the raw client's throughput", f"{indexing_ratio:.0%}",
         indexing_ratio >= TARGET_INDEXING_RATIO),
        (f"app p50 ≤ {TARGET_APP_OVER_RAW}× raw Meilisearch p50", f"{query_ratio:.2f}×",
         query_ratio <= TARGET_APP_OVER_RAW),
    ]
    for run in report.approvals:
        p95 = percentile(run.delays, 95) if run.delays else math.inf
        rows.append((f"approval → searchable p95 ≤ {TARGET_APPROVAL_P95_SECONDS:g} s ({run.worker})",
                     f"{p95 * 1000:.0f} ms", not run.missed and p95 <= TARGET_APPROVAL_P95_SECONDS))
    rows.append((f"embedded p50 ≤ {TARGET_EMBEDDED_P50_SECONDS * 1000:.0f} ms on {report.embedded.documents:,}",
                 f"{embedded_p50 * 1000:.1f} ms", embedded_p50 <= TARGET_EMBEDDED_P50_SECONDS))
    return ["Targets (issue 4)",
            *(f"  {label:<{LABEL}}{value:>9}   {verdict(passed)}" for label, value, passed in rows)]


# Main -------------------------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000, help="documents in the corpus (default 100000)")
    parser.add_argument("--embedded-size", type=int, default=20_000,
                        help="documents for the embedded backend (default 20000)")
    parser.add_argument("--rounds", type=int, default=3, help="measured passes over the 200 queries (default 3)")
    parser.add_argument("--approvals", type=int, default=30, help="approvals timed per worker (default 30)")
    parser.add_argument("--wait-for-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each phase, wait up to this long for a few seconds in which other processes "
                             "use at most 10%% of the CPU (default 0: do not wait)")
    parser.add_argument("--seed", type=int, default=4,
                        help="seed of the corpus, the queries and the timing (default 4)")
    args = parser.parse_args()
    if args.size < BATCH_SIZE or not 0 < args.embedded_size <= args.size:
        parser.error(f"--size must be at least {BATCH_SIZE} and --embedded-size between 1 and --size")
    return args


def stop_on_sigterm() -> None:
    """Turn SIGTERM into an exception, so that Meilisearch and the temporary files are cleaned up."""
    def handle(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handle)


def main() -> None:
    args = parse_args()
    stop_on_sigterm()
    run_id = secrets.token_hex(4)
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix="jjj-bench-search."))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        server = cleanup.enter_context(meilisearch_server(workdir))
        client = meilisearch.Client(server.url, server.key, timeout=60)
        database_url = f"sqlite:///{workdir / 'app.sqlite'}"
        app_index, raw_pipelined, raw_serial = (f"bench_{run_id}", f"bench_{run_id}_raw_pipelined",
                                                f"bench_{run_id}_raw_serial")
        for uid in (app_index, raw_pipelined, raw_serial):
            cleanup.callback(delete_index_if_present, client, uid)
        app = make_app(database_url, MEILI_URL=server.url, MEILI_MASTER_KEY=server.key, MEILI_INDEX=app_index)
        prepare_database(app)
        engine: MeiliBackend = app.extensions["search_backend"]

        load = OtherLoad(server.process.pid if server.process else None, args.wait_for_quiet)

        progress(f"building a corpus of {args.size:,} documents")
        with load.phase("corpus"):
            documents, build_seconds = generate_corpus(app, args.size, random.Random(args.seed))
        summary_characters = sum(len(document["summary"]) for document in documents) / len(documents)
        vocabulary_words = len(text.vocabulary())
        with load.phase("indexing"):
            indexing = measure_indexing(client, engine, raw_pipelined, raw_serial, documents, build_seconds)
        del documents[args.embedded_size:]  # only the embedded backend needs them from here on

        progress("timing queries through the app and with the raw client")
        queries = build_queries(random.Random(args.seed + 1))
        counter = EngineCallCounter(engine)
        with load.phase("queries"), serving(app) as base_url:
            timings = measure_queries(base_url, client.index(engine.index_uid), engine._index(), counter, queries,
                                      args.rounds, random.Random(args.seed + 2))
        progress("timing the same queries on a copy of the index with the whole vocabulary as the dictionary "
                 "setting, then with none")
        with load.phase("dictionary"):
            dictionary = measure_dictionary_variants(client, raw_serial, queries, args.rounds,
                                                     random.Random(args.seed + 5))
        index_disk_mib = server.disk_mib()  # the app's index is the only one left

        progress(f"approving {2 * args.approvals} entries, the worker running")
        with load.phase("approvals"):
            entries, reviewers = create_submitted_entries(app, 2 * args.approvals)
            worker_start = start_worker_like_cli(app)
            timing = random.Random(args.seed + 3)
            approvals = [measure_approvals(app, client.index(engine.index_uid), entries[:args.approvals], reviewers,
                                           False, timing),
                         measure_approvals(app, client.index(engine.index_uid), entries[args.approvals:], reviewers,
                                           True, timing)]

        progress(f"the embedded backend on {len(documents):,} documents")
        with load.phase("embedded"):
            embedded = measure_embedded(workdir, database_url, documents, queries, args.rounds,
                                        random.Random(args.seed + 4))

        print_report(Report(
            size=args.size, rounds=args.rounds, meili_version=client.get_version()["pkgVersion"],
            own_server=server.process is not None, vocabulary_words=vocabulary_words,
            summary_characters=summary_characters, indexing=indexing, app_samples=timings.app,
            raw_samples=timings.raw, raw_kept_alive_samples=timings.raw_kept_alive, dictionary=dictionary,
            worker_start=worker_start, approvals=approvals, embedded=embedded,
            meili_memory=server.memory(), index_disk_mib=index_disk_mib, other_load=load.shares, waited=load.waited,
            bench_peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    main()
