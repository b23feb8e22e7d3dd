#include "cli/admin_commands.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/settings_options.hpp"
#include "cli/store_access.hpp"
#include "config/api_token.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

// Settings the admin commands accept: where the data lives.
const std::vector<std::string> admin_keys = {"data_dir", "database_url"};

int fail(const std::string& message) {
  std::cerr << "error: " << message << std::endl;
  return 1;
}

int fail(const caf::error& err) {
  auto msg = message_of(err);
  return fail(msg.empty() ? std::string{to_string(code_of(err))} : msg);
}

caf::expected<std::shared_ptr<store>> open_for(const settings_options& opts) {
  auto s = opts.resolve();
  if (!s)
    return s.error();
  return open_configured_store(*s);
}

// Issues and stores a token, then prints it alone on the last line.
int print_new_token(store& db, const user& u) {
  auto issued = issue_token(u.id);
  if (auto res = db.add_token(issued.record); !res)
    return fail(res.error());
  std::cout << "API token " << issued.record.id << " for " << u.name
            << " (shown only this once; keep it secret):\n"
            << issued.text << std::endl;
  return 0;
}

int create_user(const settings_options& opts, const std::string& name) {
  if (!valid_user_name(name))
    return fail("invalid user name '" + name
                + "': use 1-64 characters a-z, 0-9, '.', '_' or '-', starting with a letter "
                  "or digit");
  auto db = open_for(opts);
  if (!db)
    return fail(db.error());
  auto u = (*db)->create_user(name);
  if (!u) {
    if (code_of(u.error()) == errc::conflict)
      return fail("user '" + name + "' already exists (use `gilgal admin create-token " + name
                  + "` for another token)");
    return fail(u.error());
  }
  std::cout << "Created user " << u->name << " (" << u->id << ")\n";
  return print_new_token(**db, *u);
}

int create_token(const settings_options& opts, const std::string& name) {
  auto db = open_for(opts);
  if (!db)
    return fail(db.error());
  auto u = (*db)->find_user_by_name(name);
  if (!u) {
    if (code_of(u.error()) == errc::not_found)
      return fail("no user named '" + name + "'");
    return fail(u.error());
  }
  return print_new_token(**db, *u);
}

int list_users(const settings_options& opts) {
  auto db = open_for(opts);
  if (!db)
    return fail(db.error());
  auto users = (*db)->list_users();
  if (!users)
    return fail(users.error());
  if (users->empty()) {
    std::cout << "no users (create one with `gilgal admin create-user NAME`)" << std::endl;
    return 0;
  }
  size_t width = 4;
  for (auto& u : *users)
    width = std::max(width, u.name.size());
  auto pad = [&](const std::string& s) { return s + std::string(width - s.size() + 2, ' '); };
  std::cout << pad("NAME") << "ID                                    CREATED\n";
  for (auto& u : *users)
    std::cout << pad(u.name) << u.id << "  " << u.created_at << '\n';
  std::cout.flush();
  return 0;
}

int list_tokens(const settings_options& opts, const std::string& name) {
  auto db = open_for(opts);
  if (!db)
    return fail(db.error());
  auto u = (*db)->find_user_by_name(name);
  if (!u) {
    if (code_of(u.error()) == errc::not_found)
      return fail("no user named '" + name + "'");
    return fail(u.error());
  }
  auto tokens = (*db)->list_tokens(u->id);
  if (!tokens)
    return fail(tokens.error());
  if (tokens->empty()) {
    std::cout << "no tokens for " << name << " (issue one with `gilgal admin create-token "
              << name << "`)" << std::endl;
    return 0;
  }
  std::cout << "ID                CREATED                   STATUS\n";
  for (auto& t : *tokens)
    std::cout << t.id << "  " << t.created_at << "  "
              << (t.revoked_at.empty() ? std::string{"active"} : "revoked " + t.revoked_at)
              << '\n';
  std::cout.flush();
  return 0;
}

int revoke_token(const settings_options& opts, const std::string& id) {
  if (!token_id_of(id).empty())
    return fail("give the token's id (the 16 hex digits after 'glg_', shown by "
                "`gilgal admin list-tokens USER`), not the token itself");
  if (!valid_token_id(id))
    return fail("invalid token id '" + id + "': expected 16 hex digits (see "
                "`gilgal admin list-tokens USER`)");
  auto db = open_for(opts);
  if (!db)
    return fail(db.error());
  auto revoked = (*db)->revoke_token(id);
  if (!revoked) {
    if (code_of(revoked.error()) == errc::not_found)
      return fail("no token with id " + id);
    return fail(revoked.error());
  }
  // A running server's token cache forgets it within a second.
  std::cout << "Revoked token " << id << " (at " << revoked->revoked_at << ")" << std::endl;
  return 0;
}

} // namespace

bool valid_user_name(const std::string& name) {
  if (name.empty() || name.size() > 64)
    return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name[0]))
    return false;
  for (char c : name)
    if (!alnum(c) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

void add_admin_commands(CLI::App& app, int& exit_code) {
  auto* admin = app.add_subcommand(
    "admin", "Manage users and API tokens directly on the data directory or database "
             "(no server needed)");
  admin->require_subcommand(1);

  auto* cu = admin->add_subcommand(
    "create-user", "Create a user and print its first API token (alone on the last line)");
  auto cu_name = std::make_shared<std::string>();
  cu->add_option("NAME", *cu_name, "user name: a-z, 0-9, '.', '_', '-'; at most 64")
    ->required();
  auto cu_opts = std::make_shared<settings_options>(*cu, admin_keys);
  cu->callback([&exit_code, cu_name, cu_opts] { exit_code = create_user(*cu_opts, *cu_name); });

  auto* ct = admin->add_subcommand(
    "create-token", "Issue another API token for USER (printed alone on the last line)");
  auto ct_name = std::make_shared<std::string>();
  ct->add_option("USER", *ct_name, "name of an existing user")->required();
  auto ct_opts = std::make_shared<settings_options>(*ct, admin_keys);
  ct->callback([&exit_code, ct_name, ct_opts] { exit_code = create_token(*ct_opts, *ct_name); });

  auto* lt = admin->add_subcommand(
    "list-tokens", "List USER's API tokens: id, creation time and whether revoked");
  auto lt_name = std::make_shared<std::string>();
  lt->add_option("USER", *lt_name, "name of an existing user")->required();
  auto lt_opts = std::make_shared<settings_options>(*lt, admin_keys);
  lt->callback([&exit_code, lt_name, lt_opts] { exit_code = list_tokens(*lt_opts, *lt_name); });

  auto* rt = admin->add_subcommand(
    "revoke-token", "Revoke the API token TOKEN_ID; a running server refuses it within 1 s");
  auto rt_id = std::make_shared<std::string>();
  rt->add_option("TOKEN_ID", *rt_id, "the token's id (16 hex digits, see list-tokens)")
    ->required();
  auto rt_opts = std::make_shared<settings_options>(*rt, admin_keys);
  rt->callback([&exit_code, rt_id, rt_opts] { exit_code = revoke_token(*rt_opts, *rt_id); });

  auto* lu = admin->add_subcommand("list-users", "List every user with id and creation time");
  auto lu_opts = std::make_shared<settings_options>(*lu, admin_keys);
  lu->callback([&exit_code, lu_opts] { exit_code = list_users(*lu_opts); });
}

} // namespace gilgal::cli
