"""Slurm settings checked against the cluster's facts (sinfo/scontrol output) before submission."""

from xstilts.slurm import cluster_facts, slurm_problems

SINFO = "cpu*|(null)\ngpu|gpu:a100:4\ngpu|gpu:a100:8\n"
SCONTROL = "AccountingStorageEnforce = associations,limits\nClusterName = uni\n"


def facts(sinfo=SINFO, scontrol=SCONTROL):
    return cluster_facts(lambda args: sinfo if args[0] == "sinfo" else scontrol)


def test_cluster_facts_from_sinfo_and_scontrol():
    assert facts() == {"partitions": {"cpu": False, "gpu": True}, "default": "cpu", "accounts_required": True}
    assert not facts(scontrol="AccountingStorageEnforce = none\n")["accounts_required"]


def test_settings_that_fit_pass():
    jobs = [("prepare", {"slurm_partition": "cpu", "slurm_account": "lab"}),
            ("finetune", {"slurm_partition": "gpu", "gres": "gpu:1", "slurm_account": "lab"}),
            ("score", {"slurm_account": "lab"})]  # the default partition
    assert slurm_problems(jobs, facts()) == []


def test_gpu_request_on_a_cpu_partition_names_rule_partition_and_gpu_partitions():
    problems = slurm_problems([("finetune", {"slurm_partition": "cpu", "gres": "gpu:4", "slurm_account": "a"})], facts())
    assert problems == ["rule finetune: requests GPUs (gpu:4) on partition 'cpu', whose nodes have no GPUs; GPU "
                        "partitions: gpu (set-resources.finetune.slurm_partition in profiles/slurm/config.yaml)"]


def test_unknown_partition_and_missing_account_each_reported_once():
    jobs = [("prepare", {"slurm_partition": "short"}), ("prepare", {"slurm_partition": "short"})]
    problems = slurm_problems(jobs, facts())
    assert len(problems) == 2
    assert problems[0].startswith("rule prepare: partition 'short' does not exist on this cluster (partitions: cpu, gpu)")
    assert "requires an account" in problems[1]


def test_no_partition_and_no_default():
    problems = slurm_problems([("prepare", {})], facts(sinfo="a|(null)\n", scontrol=""))
    assert problems == ["rule prepare: no slurm_partition set and the cluster has no default partition; set it in "
                        "profiles/slurm/config.yaml (partitions: a)"]
