//! Roles, departments and the organization's settings (SPEC R2, O1–O3). These are edited
//! online: they are few, rarely changed, and an edit must see the server's rules at once.
//! The cache still holds roles and departments (from the change feed) for reading offline.

use crate::auth::Client;
use crate::error::Result;
use gatehouse_api::{Directory, Group, GroupPatch, NewGroup, NewRole, Organization, OrganizationPatch, Role, RolePatch};
use reqwest::Method;

fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}

impl Client {
    /// `GET /v1/org`.
    pub async fn organization(&self) -> Result<Organization> {
        self.send_authed(Method::GET, "v1/org", None::<&()>).await
    }

    /// `PATCH /v1/org`.
    pub async fn update_organization(&self, patch: &OrganizationPatch) -> Result<Organization> {
        self.send_authed(Method::PATCH, "v1/org", Some(patch)).await
    }

    /// `GET /v1/roles`, with member counts.
    pub async fn roles(&self) -> Result<Vec<Role>> {
        self.send_authed(Method::GET, "v1/roles", None::<&()>).await
    }

    /// `POST /v1/roles`.
    pub async fn create_role(&self, role: &NewRole) -> Result<Role> {
        self.send_authed(Method::POST, "v1/roles", Some(role)).await
    }

    /// `PATCH /v1/roles/{id}`.
    pub async fn update_role(&self, id: &str, patch: &RolePatch) -> Result<Role> {
        self.send_authed(Method::PATCH, &format!("v1/roles/{}", segment(id)), Some(patch)).await
    }

    /// `DELETE /v1/roles/{id}`.
    pub async fn delete_role(&self, id: &str) -> Result<()> {
        self.send_authed(Method::DELETE, &format!("v1/roles/{}", segment(id)), None::<&()>).await
    }

    /// `GET /v1/departments`, with member counts.
    pub async fn groups(&self) -> Result<Vec<Group>> {
        self.send_authed(Method::GET, "v1/departments", None::<&()>).await
    }

    /// `POST /v1/departments`.
    pub async fn create_group(&self, group: &NewGroup) -> Result<Group> {
        self.send_authed(Method::POST, "v1/departments", Some(group)).await
    }

    /// `PATCH /v1/departments/{id}`.
    pub async fn rename_group(&self, id: &str, patch: &GroupPatch) -> Result<Group> {
        self.send_authed(Method::PATCH, &format!("v1/departments/{}", segment(id)), Some(patch)).await
    }

    /// `DELETE /v1/departments/{id}`, moving the members to `move_to` when given.
    pub async fn delete_group(&self, id: &str, move_to: Option<&str>) -> Result<()> {
        let query = move_to.map(|m| format!("?move_to={}", segment(m))).unwrap_or_default();
        self.send_authed(Method::DELETE, &format!("v1/departments/{}{query}", segment(id)), None::<&()>).await
    }
}

impl crate::Cache {
    /// Roles and departments from the local copy.
    pub async fn directory(&self) -> Result<Directory> {
        let roles: Vec<String> = sqlx::query_scalar("SELECT json FROM roles").fetch_all(&self.db).await?;
        let mut roles: Vec<Role> = roles.iter().map(|j| serde_json::from_str(j)).collect::<std::result::Result<_, _>>().map_err(|e| crate::Error::Cache(e.to_string()))?;
        let builtin_rank = |key: &str| ["owner", "admin", "manager", "member"].iter().position(|k| *k == key).unwrap_or(4);
        roles.sort_by(|a, b| builtin_rank(&a.key).cmp(&builtin_rank(&b.key)).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
        let groups: Vec<String> = sqlx::query_scalar("SELECT json FROM groups").fetch_all(&self.db).await?;
        let mut groups: Vec<gatehouse_api::GroupRef> =
            groups.iter().map(|j| serde_json::from_str(j)).collect::<std::result::Result<_, _>>().map_err(|e| crate::Error::Cache(e.to_string()))?;
        groups.sort_by(|a, b| (a.kind as u8).cmp(&(b.kind as u8)).then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase())));
        Ok(Directory { roles, groups })
    }

    /// Writes the users matching `query` (its cursor and limit ignored) from the local copy
    /// as CSV to `out`, the same columns as the server's export, calling `progress(done,
    /// total)` after each page. Returns how many users were written.
    pub async fn export_csv(
        &self,
        query: &gatehouse_api::UserListQuery,
        out: &mut impl std::io::Write,
        progress: impl Fn(u32, u32),
    ) -> Result<u32> {
        let io = |e: std::io::Error| crate::Error::Invalid(format!("Could not write the file: {e}"));
        out.write_all(gatehouse_api::USERS_CSV_HEADER.as_bytes()).map_err(io)?;
        let mut page_query = gatehouse_api::UserListQuery { cursor: None, limit: Some(gatehouse_api::MAX_USER_PAGE), ..query.clone() };
        let mut done = 0u32;
        let mut line = String::new();
        loop {
            let page = self.list_users(&page_query).await?;
            let total = match query.status {
                Some(gatehouse_api::UserStatus::Active) => page.counts.active,
                Some(gatehouse_api::UserStatus::Pending) => page.counts.pending,
                Some(gatehouse_api::UserStatus::Deactivated) => page.counts.deactivated,
                None => page.counts.all,
            };
            for user in &page.items {
                line.clear();
                gatehouse_api::users_csv_record(&mut line, user);
                out.write_all(line.as_bytes()).map_err(io)?;
            }
            done += page.items.len() as u32;
            progress(done, total.max(done));
            match page.next_cursor {
                Some(cursor) => page_query.cursor = Some(cursor),
                None => break,
            }
        }
        out.flush().map_err(io)?;
        Ok(done)
    }
}
