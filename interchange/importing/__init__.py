"""Import the original ``rolemodel`` tool's files (config.yml, the roles template, users.yml).

``import_files`` is the one entry point; the modules of this package each read one kind of file
(``config_file``, ``template_file``, ``user_map``), check them together (``checks``) and write them
through the services (``writer``).
"""
from pathlib import Path

from django.db import transaction

from accounts.models import MasterAccount
from audit.services import Actor
from core.permissions import check_actor
from interchange.importing.checks import check_against_console
from interchange.importing.config_file import ConfigSpec, parse_config
from interchange.importing.files import InputFileError, load_file
from interchange.importing.problems import ImportRefused, Problems
from interchange.importing.report import ImportReport
from interchange.importing.spec import ImportSpec
from interchange.importing.template_file import TemplateSpec, parse_template
from interchange.importing.user_map import parse_user_map
from interchange.importing.writer import write_import

__all__ = ["ImportRefused", "ImportReport", "import_files", "read_import_files"]


def import_files(
    *, config_path: Path, users_path: Path | None = None, actor: Actor, dry_run: bool = False
) -> ImportReport:
    """Bring the console's desired state in line with the files: all of it, or nothing.

    1. Read and check every file, collecting all problems; refuse (``ImportRefused``) if there are any.
    2. In one transaction, check the files against what the console holds, then write through the
       services, each write audited with the reason "Imported from <file>".
    3. On a dry run, roll the transaction back once the report is built.

    Refused (``PermissionDenied``) before any file is read when the actor may not edit, dry run or not.
    """
    check_actor(actor, "edit", "Only members of the Editor or Admin group import files into the desired state.")
    spec = read_import_files(config_path=config_path, users_path=users_path)
    report = ImportReport(
        sources=[spec.config_source, spec.template_source] + ([spec.users_source] if spec.users_source else []),
        notes=list(spec.template.notes),
        dry_run=dry_run,
    )
    with transaction.atomic():
        problems = Problems()
        check_against_console(spec, problems)
        problems.raise_if_any()
        write_import(spec, actor=actor, report=report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def read_import_files(*, config_path: Path, users_path: Path | None = None) -> ImportSpec:
    problems = Problems()
    config = _read(config_path, problems, lambda data: parse_config(data, path=config_path, problems=problems))
    config = config or ConfigSpec()

    template_path = config.template_path
    template = None
    if template_path is not None:
        master_account_id = config.master_account_id or _current_master_account_id()
        template = _read(
            template_path,
            problems,
            lambda data: parse_template(
                data, source=str(template_path), master_account_id=master_account_id, problems=problems
            ),
        )

    groups = None
    if users_path is not None:
        groups = _read(users_path, problems, lambda data: parse_user_map(data, source=str(users_path), problems=problems))

    problems.raise_if_any()
    return ImportSpec(
        config_source=str(config_path),
        template_source=str(template_path),
        users_source=str(users_path) if users_path is not None else None,
        config=config,
        template=template or TemplateSpec(),
        groups=groups if users_path is not None else None,
    )


def _read(path: Path, problems: Problems, parse):
    try:
        data = load_file(path)
    except InputFileError as error:
        problems.add(str(error))
        return None
    return parse(data)


def _current_master_account_id() -> str:
    # filter() rather than MasterAccount.load(): reading the files must not write anything.
    master = MasterAccount.objects.filter(pk=1).first()
    return master.account_id if master else ""
